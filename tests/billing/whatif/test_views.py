"""What-if pages: who may run it, the result, its export, the job result and apply."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Job
from accounts.roles import Role
from billing.models import PricePlan
from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
    PeriodFactory,
    PricePlanFactory,
    UsageRecordFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _query(**extra) -> str:
    params = {
        "series": "L",
        "month_from": "2025-10",
        "month_to": "2025-10",
        "threshold": "10",
        "plan-kind": PricePlan.Kind.PER_SHOOT,
        "plan-single_price": "10",
        "plan-multi_rule": PricePlan.MultiRule.UNIFIED,
        "plan-tier_mode": PricePlan.TierMode.GRADUATED,
        "plan-tier_unit": PricePlan.TierUnit.SHOOTS,
        "plan-fee_schedule": PricePlan.FeeSchedule.UPFRONT,
    }
    params.update(extra)
    return urlencode(params, doseq=True)


@pytest.fixture
def priced(db):
    series = DeviceSeriesFactory(code="L")
    cheap = CustomerFactory(name="=危险名称", company_id="900001")
    PricePlanFactory(customer=cheap, series=series, single_price=D("8"))
    UsageRecordFactory(customer=cheap, series=series, shot_date=dt.date(2025, 10, 3), shots=10)
    dear = CustomerFactory(name="贵客户", company_id="900002")
    PricePlanFactory(customer=dear, series=series, single_price=D("12"))
    UsageRecordFactory(customer=dear, series=series, shot_date=dt.date(2025, 10, 3), shots=10)
    return cheap, dear


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMIN, 200), (Role.MANAGER, 200), (Role.OPS, 200), (Role.SALES, 403)],
)
def test_who_may_run_a_whatif(client, priced, role, status):
    client.force_login(UserFactory(role=role, username=f"u-{role}"))

    page = client.get(reverse("billing:whatif") + "?" + _query())
    export = client.get(reverse("billing:whatif-export") + "?" + _query())

    assert page.status_code == status
    assert export.status_code == status


def test_result_shows_totals_and_rows_largest_increase_first(client, manager_user, priced):
    client.force_login(manager_user)

    response = client.get(reverse("billing:whatif") + "?" + _query())

    body = response.content.decode()
    assert "现行方案 ¥200.00" in body and "候选方案 ¥200.00" in body
    table = response.context["table"]
    assert [row.record["company_id"] for row in table.rows] == [900001, 900002]
    assert [r["company_id"] for r in response.context["above"]] == [900001]
    assert 'id="whatif-chart-data"' in body and "<script>" not in body.split("</main>")[0]


def test_customers_come_from_the_customer_lists_filter(client, manager_user, priced):
    client.force_login(manager_user)

    response = client.get(
        reverse("billing:whatif") + "?" + _query(customers=urlencode({"q": "贵客户"}))
    )

    assert [row.record["company_id"] for row in response.context["table"].rows] == [900002]


def test_export_writes_numbers_and_keeps_formula_text_as_text(client, manager_user, priced):
    client.force_login(manager_user)

    response = client.get(reverse("billing:whatif-export") + "?" + _query())

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[2]] == [
        "公司id",
        "客户",
        "已出账",
        "现行方案",
        "候选方案",
        "差额",
        "变化（%）",
    ]
    assert [c.value for c in sheet[3]] == ["900001", "=危险名称", 0, 80, 100, 20, 25]
    assert sheet.cell(3, 2).data_type == "s"
    assert sheet.cell(5, 2).value == "合计" and sheet.cell(5, 6).value == 0


def test_bad_candidate_names_the_field(client, ops_user, priced):
    client.force_login(ops_user)

    response = client.get(reverse("billing:whatif") + "?" + _query(**{"plan-single_price": ""}))

    assert response.status_code == 200
    assert "请填写单层单价" in response.content.decode()
    assert "table" not in response.context


def test_a_large_set_runs_as_a_job_whose_result_only_its_owner_sees(
    client, manager_user, priced, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("billing.whatif.views.INLINE_MAX", 1)
    client.force_login(manager_user)
    page = client.get(reverse("billing:whatif") + "?" + _query())
    assert page.context["too_many"] is True

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:whatif-run"), {"query": _query()})

    job = Job.objects.get(kind="whatif")
    assert response.url == reverse("accounts:job-detail", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED, job.message
    result = client.get(reverse("billing:whatif-job", args=[job.pk]))
    assert result.context["totals"]["candidate"] == D("200.00")
    export = client.get(reverse("billing:whatif-job-export", args=[job.pk]))
    assert load_workbook(io.BytesIO(export.content)).active.cell(3, 1).value == "900001"
    client.force_login(UserFactory(role=Role.MANAGER, username="manager2"))
    assert client.get(reverse("billing:whatif-job", args=[job.pk])).status_code == 404


def test_the_customer_list_links_its_filter_to_the_whatif(client, manager_user, priced):
    client.force_login(manager_user)

    response = client.get(reverse("customers:customer-list") + "?q=贵客户")

    link = (
        reverse("billing:whatif") + "?customers=q%3D%25E8%25B4%25B5%25E5%25AE%25A2%25E6%2588%25B7"
    )
    assert link in response.content.decode()
    form_page = client.get(link)
    assert form_page.context["form"]["customers"].value() == "q=%E8%B4%B5%E5%AE%A2%E6%88%B7"


# --- apply: at once for a few customers, as an all-or-nothing job for many ----------

NEW_FROM = "2025-12-01"


def _plan_entries() -> int:
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(PricePlan)
    ).count()


def test_a_small_apply_runs_at_once(client, ops_user, priced):
    # given two customers, under the threshold
    client.force_login(ops_user)

    # when ops applies the candidate from December
    response = client.post(
        reverse("billing:whatif-apply"), {"query": _query(), "valid_from": NEW_FROM}
    )

    # then both get version 2 at once, with no job
    assert response.url.startswith(reverse("billing:whatif"))
    assert not Job.objects.exists()
    new = PricePlan.objects.filter(valid_from=dt.date(2025, 12, 1))
    assert sorted(new.values_list("single_price", flat=True)) == [D("10.00"), D("10.00")]


def test_a_large_apply_runs_as_a_job_audited_once(
    client, ops_user, priced, monkeypatch, django_capture_on_commit_callbacks
):
    # given a threshold below the two chosen customers
    monkeypatch.setattr("billing.whatif.services.APPLY_INLINE_MAX", 1)
    client.force_login(ops_user)
    entries = _plan_entries()

    # when ops applies the candidate from December
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("billing:whatif-apply"), {"query": _query(), "valid_from": NEW_FROM}
        )

    # then it went through a job that made every version, with one audit entry
    job = Job.objects.get(kind="whatif_apply")
    assert response.url == reverse("accounts:job-detail", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result["新建方案版本"] == 2
    assert (job.progress_done, job.progress_total) == (2, 2)
    for customer in priced:
        versions = PricePlan.objects.filter(customer=customer).order_by("version")
        assert [(p.version, p.valid_to, p.single_price) for p in versions][-1] == (
            versions.first().version + 1,
            None,
            D("10.00"),
        )
        assert versions.first().valid_to == dt.date(2025, 11, 30)
    assert _plan_entries() == entries + 1


def test_a_large_apply_that_fails_part_way_writes_nothing(
    client, ops_user, priced, monkeypatch, django_capture_on_commit_callbacks
):
    # given a job whose write stops after the old plans were ended and the new ones copied
    monkeypatch.setattr("billing.whatif.services.APPLY_INLINE_MAX", 1)
    from billing.plans import services as plan_services

    real_insert = plan_services.plans_insert

    def insert_then_crash(plans):
        real_insert(plans)
        raise RuntimeError("worker lost")

    monkeypatch.setattr(plan_services, "plans_insert", insert_then_crash)
    client.force_login(ops_user)
    entries = _plan_entries()

    # when the large apply runs
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:whatif-apply"), {"query": _query(), "valid_from": NEW_FROM})

    # then the job failed and no plan changed: no new version, no old one ended, no audit
    job = Job.objects.get(kind="whatif_apply")
    assert job.status == Job.Status.FAILED
    assert PricePlan.objects.count() == 2
    assert list(PricePlan.objects.values_list("valid_to", flat=True)) == [None, None]
    assert _plan_entries() == entries


def test_a_large_apply_inside_a_closed_month_is_refused_before_any_job(
    client, ops_user, priced, monkeypatch
):
    # given December is closed and the selection is over the threshold
    monkeypatch.setattr("billing.whatif.services.APPLY_INLINE_MAX", 1)
    PeriodFactory(month=dt.date(2025, 12, 1))
    client.force_login(ops_user)

    # when ops applies from 2025-12-15
    response = client.post(
        reverse("billing:whatif-apply"),
        {"query": _query(), "valid_from": "2025-12-15"},
        follow=True,
    )

    # then it is refused with the reason, and neither a job nor a plan is made
    assert "2025-12 已月结关账" in response.content.decode()
    assert not Job.objects.exists()
    assert PricePlan.objects.count() == 2


def test_apply_from_before_a_later_closed_month_is_refused(ops_user, priced):
    # given January 2026 is closed while December 2025 is open
    PeriodFactory(month=dt.date(2026, 1, 1))
    from billing.whatif.services import whatif_apply
    from customers.models import Customer

    # when the candidate would take effect in December (and so cover the closed January)
    with pytest.raises(ValidationError, match="2026-01 已关账"):
        whatif_apply(
            user=ops_user,
            customers_qs=Customer.objects.all(),
            series=priced[0].price_plans.get().series,
            data={"kind": PricePlan.Kind.PER_SHOOT, "single_price": D("10")},
            valid_from=dt.date(2025, 12, 1),
        )

    # then nothing is written
    assert PricePlan.objects.count() == 2
