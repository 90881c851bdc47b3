"""Audit page, job pages, error pages."""

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.models import Job
from accounts.roles import Role
from accounts.services import job_create, job_run
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMIN, 200), (Role.MANAGER, 200), (Role.OPS, 200), (Role.SALES, 403), ("", 403)],
)
def test_audit_page_is_for_admins_managers_and_ops(client, role, status):
    client.force_login(UserFactory(role=role))

    assert client.get(reverse("accounts:audit-list")).status_code == status


def test_audit_page_shows_changed_fields_and_filters_by_user(client, admin_user, ops_user):
    client.force_login(ops_user)
    customer = CustomerFactory(name="原名称")
    from auditlog.context import set_actor

    with set_actor(ops_user):
        customer.name = "新名称"
        customer.save()
    client.force_login(admin_user)

    page = client.get(reverse("accounts:audit-list"), {"actor": ops_user.pk}).content.decode()

    assert "新名称" in page
    assert "原名称" in page
    other = client.get(reverse("accounts:audit-list"), {"actor": admin_user.pk}).content.decode()
    assert "新名称" not in other


def test_job_run_records_success_and_failure(ops_user):
    from django.core.exceptions import ValidationError

    ok = job_create(kind="t", created_by=ops_user)
    bad = job_create(kind="t", created_by=ops_user)

    def work(job, progress):
        progress(5, total=5)
        return {"行数": 5}

    def broken(job, progress):
        raise ValidationError("第 3 行：公司id 为空")

    job_run(job_id=ok.pk, work=work)
    job_run(job_id=bad.pk, work=broken)

    ok.refresh_from_db()
    bad.refresh_from_db()
    assert (ok.status, ok.result, ok.percent) == (Job.Status.SUCCEEDED, {"行数": 5}, 100)
    assert (bad.status, bad.message) == (Job.Status.FAILED, "第 3 行：公司id 为空")


def test_job_run_hides_internal_errors_and_is_safe_to_repeat(ops_user):
    job = job_create(kind="t", created_by=ops_user)
    calls = []

    def crash(job, progress):
        calls.append(1)
        raise RuntimeError("secret internals")

    job_run(job_id=job.pk, work=crash)
    job_run(job_id=job.pk, work=crash)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "secret" not in job.message
    assert calls == [1]


def test_job_page_is_only_for_its_owner_and_admins(client, ops_user, sales_user, admin_user):
    job = job_create(kind="t", created_by=ops_user, title="导入客户")
    url = reverse("accounts:job-detail", args=[job.pk])

    client.force_login(sales_user)
    assert client.get(url).status_code == 404
    client.force_login(ops_user)
    assert "导入客户" in client.get(url).content.decode()
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


def test_job_progress_partial_polls_until_finished(client, ops_user):
    job = job_create(kind="t", created_by=ops_user)
    client.force_login(ops_user)

    running = client.get(reverse("accounts:job-detail", args=[job.pk]), HTTP_HX_REQUEST="true")

    assert 'hx-trigger="every 1s"' in running.content.decode()
    assert "<html" not in running.content.decode()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    done = client.get(reverse("accounts:job-detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "every 1s" not in done.content.decode()


@override_settings(DEBUG=False)
def test_404_page_is_chinese_without_traceback(client, ops_user):
    client.force_login(ops_user)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_navigation_shows_sections_and_current_user(client, ops_user):
    client.force_login(ops_user)

    page = client.get(reverse("home")).content.decode()

    for label in ("客户", "账单", "收款", "报表", "管理"):
        assert label in page
    assert "钱多" in page and "运营" in page
