"""The web import flow: upload → mapping → preview job → confirm → commit job → result."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Job
from customers.models import Customer
from tests.customers.conftest import default_cooperation_mapping  # noqa: F401 - autouse fixture
from tests.customers.import_files import SAMPLE, row, standard


def upload(client, data: bytes, name: str = "客户.xlsx", **extra):
    return client.post(
        reverse("customer_import:start"),
        {"file": SimpleUploadedFile(name, data), "series": "", "valid_from": "", **extra},
    )


@pytest.mark.django_db
def test_full_flow_with_sample(client, ops_user, django_capture_on_commit_callbacks):
    client.force_login(ops_user)

    response = upload(client, SAMPLE.read_bytes(), "customers_sample.xlsx")
    assert response.status_code == 302
    preview_job = Job.objects.get(kind="customer_import_preview")
    mapping_page = client.get(response.url)
    assert "公司名称" in mapping_page.content.decode()

    post = {f"col_{i}": v for i, v in preview_job.params["mapping"].items()}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customer_import:mapping", args=[preview_job.pk]), post)
    preview = client.get(response.url).content.decode()
    assert 'data-count="created">1318<' in preview
    assert 'data-count="invalid">2<' in preview
    assert Customer.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customer_import:confirm", args=[preview_job.pk]))
    job = Job.objects.get(kind="customer_import")
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result["新增"] == 1318 and job.result["无效"] == 2
    assert Customer.objects.count() == 1318
    result = client.get(response.url).content.decode()
    assert "下载错误明细" in result

    errors = client.get(reverse("accounts:job-file", args=[job.pk, "errors"]))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(errors.streaming_content)))
    header = next(book.active.iter_rows(values_only=True))
    assert header[-1] == "问题"


@pytest.mark.django_db
def test_upload_of_hostile_file_shows_message_and_creates_no_job(client, ops_user):
    client.force_login(ops_user)

    response = upload(client, b"definitely not excel", "x.xlsx")

    assert response.status_code == 200
    assert "不是 Excel 工作簿" in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_mapping_without_name_column_is_refused(client, ops_user):
    client.force_login(ops_user)
    upload(client, standard(row(1, "甲")))
    job = Job.objects.get()

    response = client.post(
        reverse("customer_import:mapping", args=[job.pk]), {"col_0": "company_id"}
    )

    assert "必须指定“公司名称”所在的列" in response.content.decode()


@pytest.mark.django_db
def test_sales_and_manager_cannot_import(client, sales_user, manager_user):
    for user in (sales_user, manager_user):
        client.force_login(user)
        assert client.get(reverse("customer_import:start")).status_code == 403
        assert upload(client, standard(row(1, "甲"))).status_code == 403
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_other_users_preview_job_is_404(client, ops_user, admin_user):
    client.force_login(admin_user)
    upload(client, standard(row(1, "甲")))
    job = Job.objects.get()

    client.force_login(ops_user)

    assert client.get(reverse("customer_import:preview", args=[job.pk])).status_code == 404
    assert client.post(reverse("customer_import:confirm", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_template_workbook_downloads_and_imports(client, ops_user):
    client.force_login(ops_user)

    response = client.get(reverse("customer_import:template"))

    from customers.importers import import_analyse, table_open

    plan = import_analyse(table_open(io.BytesIO(response.content), filename="t.xlsx"))
    assert plan.rows[0].company_id == 1001


@pytest.mark.django_db
def test_corrected_mapping_after_preview_runs_a_new_preview(
    client, ops_user, django_capture_on_commit_callbacks
):
    client.force_login(ops_user)
    upload(client, standard(row(1, "甲", level="S")))
    first = Job.objects.get()
    url = reverse("customer_import:mapping", args=[first.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"col_0": "company_id", "col_1": "name", "col_6": "level"})

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"col_0": "company_id", "col_1": "name"})

    second = Job.objects.exclude(pk=first.pk).get()
    assert response.url == reverse("customer_import:preview", args=[second.pk])
    assert second.status == Job.Status.SUCCEEDED
    assert "6" not in second.params["mapping"]


@pytest.mark.django_db
def test_seed_demo_data_loads_customers_through_importer_idempotently(sales_user):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo_data", stdout=StringIO())
    call_command("seed_demo_data", stdout=StringIO())

    assert Customer.objects.count() == 1318
    assert Customer.objects.filter(sales_owner=sales_user).count() == 18
    assert Customer.objects.filter(lifecycle_status="dormant").exists()
