"""Bill, usage and plan pages: permissions, scope (out-of-scope ids answer 404), forms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from io import BytesIO

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Bill, PricePlan, UsageRecord
from customers.models import Customer
from tests.factories import (
    BillFactory,
    BillLineFactory,
    CustomerFactory,
    DeviceSeriesFactory,
    JobFactory,
    PaymentFactory,
    PricePlanFactory,
    UsageRecordFactory,
    issued_bill,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def series_l():
    return DeviceSeriesFactory(code="L")


def test_bill_list_shows_totals_and_filters(client, ops_user):
    BillFactory(total=D("1234.50"), anomalies=[{"code": "spike", "message": "用量异常"}])
    BillFactory(total=D("100"))
    client.force_login(ops_user)
    response = client.get(reverse("billing:bill-list"), {"period": "2025-10"})
    assert response.status_code == 200
    assert "¥1,334.50" in response.text
    assert "生成本月账单" in response.text
    filtered = client.get(reverse("billing:bill-list"), {"period": "2025-10", "anomalies": "on"})
    assert filtered.context["totals"]["count"] == 1


def test_sales_sees_only_own_bills_and_cannot_generate(client, sales_user):
    own = BillFactory(customer=CustomerFactory(sales_owner=sales_user))
    other = BillFactory()
    client.force_login(sales_user)
    response = client.get(reverse("billing:bill-list"), {"period": "2025-10"})
    assert list(response.context["page"]) == [own]
    assert "生成本月账单" not in response.text
    assert client.get(reverse("billing:bill-detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("billing:bill-generate"), {"period": "2025-10"}).status_code == 403


@pytest.mark.parametrize(
    "name", ["billing:bill-detail", "billing:customer-usage", "billing:plan-edit"]
)
def test_out_of_scope_ids_answer_404(client, sales_user, name):
    bill = BillFactory()
    BillLineFactory(bill=bill)
    plan = PricePlanFactory(customer=bill.customer)
    pk = {"billing:bill-detail": bill.pk, "billing:customer-usage": bill.customer.pk}.get(
        name, plan.pk
    )
    client.force_login(sales_user)
    assert client.get(reverse(name, args=[pk])).status_code in (403, 404)


def test_out_of_scope_line_drill_down_and_import_preview_answer_404(client, ops_user, sales_user):
    bill = BillFactory()
    line = BillLineFactory(bill=bill)
    client.force_login(sales_user)
    url = reverse("billing:bill-line-usage", args=[bill.pk, line.pk])
    assert client.get(url).status_code == 404
    job = JobFactory(kind="usage_import", created_by=sales_user)
    client.force_login(ops_user)
    assert client.get(reverse("billing:usage-import-preview", args=[job.pk])).status_code == 404


def test_bill_detail_shows_lines_and_drills_down_to_usage(
    client, ops_user, series_l, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
    PricePlanFactory(customer=customer, series=series_l)
    UsageRecordFactory(customer=customer, series=series_l, shots=3, source_ref="SO1")
    client.force_login(ops_user)
    with django_capture_on_commit_callbacks(execute=True):
        with_job = client.post(reverse("billing:bill-generate"), {"period": "2025-10"})
    assert with_job.status_code == 302
    job_page = client.get(with_job["Location"])
    assert "账单：1" in job_page.text
    bill = Bill.objects.get(customer=customer)
    line = bill.lines.get()
    page = client.get(reverse("billing:bill-detail", args=[bill.pk]))
    assert "单层 3 次：3×¥8.00 = ¥24.00" in page.text
    assert f"第 {line.plan.version} 版" in page.text
    usage = client.get(
        reverse("billing:bill-line-usage", args=[bill.pk, line.pk]), HTTP_HX_REQUEST="true"
    )
    assert "SO1" in usage.text


def test_manual_usage_entry(client, ops_user, series_l):
    customer = CustomerFactory()
    client.force_login(ops_user)
    url = reverse("billing:customer-usage", args=[customer.pk])
    data = {"series": series_l.pk, "shot_date": "2025-10-05", "floors": 2, "shots": 3}
    assert client.post(url, {**data, "source_ref": "M1"}).status_code == 302
    again = client.post(url, {**data, "source_ref": "M1"})
    assert "已录入过" in again.text
    record = UsageRecord.objects.get()
    assert (record.shots, record.floors, record.source) == (3, 2, "manual")


def test_sales_cannot_enter_usage(client, sales_user, series_l):
    customer = CustomerFactory(sales_owner=sales_user)
    client.force_login(sales_user)
    response = client.post(
        reverse("billing:customer-usage", args=[customer.pk]),
        {"series": series_l.pk, "shot_date": "2025-10-05", "floors": 1, "shots": 1},
    )
    assert response.status_code == 403


def test_plan_form_live_example_and_create(client, ops_user, series_l):
    customer = CustomerFactory()
    client.force_login(ops_user)
    url = reverse("billing:plan-create", args=[customer.pk])
    data = {
        "series": "L",
        "kind": "per_shoot",
        "single_price": "8",
        "multi_rule": "incremental",
        "multi_base": "14",
        "multi_step": "10",
        "tier_mode": "graduated",
        "tier_unit": "shoots",
        "fee_schedule": "upfront",
        "ex_single": "10",
        "ex_multi": "2",
        "ex_floors": "3",
    }
    example = client.post(url, {**data, "_example": "1"}, HTTP_HX_REQUEST="true")
    assert "10 次单层和 2 次 3 层拍摄，本月费用 ¥148.00" in example.text
    assert client.post(url, data).status_code == 302
    plan = PricePlan.objects.get()
    assert (plan.multi_base, plan.version) == (D("14.00"), 1)


def test_locked_plan_edit_makes_a_new_version(client, ops_user, series_l):
    plan = PricePlanFactory(series=series_l, valid_from=date(2025, 1, 1), is_locked=True)
    client.force_login(ops_user)
    url = reverse("billing:plan-edit", args=[plan.pk])
    page = client.get(url)
    assert "新版本" in page.text
    response = client.post(
        url,
        {
            "kind": "per_shoot",
            "single_price": "9",
            "valid_from": "2025-11-01",
            "multi_rule": "unified",
            "tier_mode": "graduated",
            "tier_unit": "shoots",
            "fee_schedule": "upfront",
        },
    )
    assert response.status_code == 302
    assert PricePlan.objects.filter(customer=plan.customer).count() == 2
    plan.refresh_from_db()
    assert (plan.single_price, plan.valid_to) == (D("8.00"), date(2025, 10, 31))


def workbook(rows: list[list], title="拍摄明细") -> BytesIO:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "usage.xlsx"
    return buffer


def test_usage_upload_preview_then_commit(client, ops_user, series_l):
    CustomerFactory(company_id=15)
    client.force_login(ops_user)
    upload = workbook(
        [
            ["公司id", "设备系列", "日期", "楼层数", "拍摄量", "来源单号"],
            [15, "L", "2025-10-16", 1, 1, "SO1"],
            [15, "L", "2025-10-17", 2, 3, "SO2"],
        ]
    )
    response = client.post(
        reverse("billing:usage-import"), {"file": upload, "kind": "long", "series": "L"}
    )
    preview_url = response["Location"]
    preview = client.get(preview_url)
    assert "将新增 <strong>2</strong> 条" in preview.text
    assert UsageRecord.objects.count() == 0
    client.post(preview_url)
    assert UsageRecord.objects.count() == 2


def test_usage_upload_with_errors_imports_nothing(client, ops_user, series_l):
    CustomerFactory(company_id=15)
    client.force_login(ops_user)
    upload = workbook(
        [
            ["公司id", "设备系列", "日期", "楼层数", "拍摄量", "来源单号"],
            [15, "L", "2025-10-16", 1, 1, "SO1"],
            [99, "L", "2025-13-01", 0, 1, "SO2"],
        ]
    )
    response = client.post(
        reverse("billing:usage-import"), {"file": upload, "kind": "long", "series": "L"}
    )
    page = client.post(response["Location"])
    assert "拍摄日期“2025-13-01”必须是日期" in page.text
    assert UsageRecord.objects.count() == 0
    job = page.context["job"]
    assert job.error_file
    assert (job.status, job.message) == (
        "failed",
        "有 2 处错误，未导入任何数据，请下载错误明细修改后重新上传",
    )


def test_bill_list_filters_swap_only_the_table(client, manager_user):
    BillFactory(customer=CustomerFactory(name="西安远景租赁服务有限公司"))
    BillFactory(customer=CustomerFactory(name="南京广厦房地产开发有限公司"))
    client.force_login(manager_user)
    response = client.get(
        reverse("billing:bill-list"), {"period": "2025-10", "q": "远景"}, HTTP_HX_REQUEST="true"
    )
    assert response.text.lstrip().startswith('<div id="bill-table">')
    assert "西安远景" in response.text and "南京广厦" not in response.text
    assert "生成本月账单" not in response.text


# --- the one bill page: pricing and lifecycle together --------------------------------


def test_bill_page_shows_lines_actions_and_correction_history(client, ops_user, series_l):
    customer = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES, company_id=77)
    PricePlanFactory(customer=customer, series=series_l)
    UsageRecordFactory(customer=customer, series=series_l, shots=3)
    client.force_login(ops_user)
    client.post(reverse("billing:bill-generate"), {"period": "2025-10", "customer": customer.pk})
    draft = Bill.objects.get(customer=customer)

    page = client.get(reverse("billing:bill-detail", args=[draft.pk])).text
    assert "单层 3 次：3×¥8.00 = ¥24.00" in page
    assert 'id="bill-issue"' in page and 'id="manual-line-form"' in page
    assert 'id="regenerate"' in page

    client.post(reverse("billing:bill-issue", args=[draft.pk]))
    issued = client.get(reverse("billing:bill-detail", args=[draft.pk])).text
    assert 'id="bill-reverse-form"' in issued and 'id="bill-issue"' not in issued
    assert 'id="regenerate"' not in issued

    after = client.post(reverse("billing:bill-reverse", args=[draft.pk]), {"reason": "数量错误"})
    assert after["Location"] == reverse("billing:bill-detail", args=[draft.pk])
    reversed_page = client.get(after["Location"]).text
    assert "CN-202510-77-1" in reversed_page
    assert 'id="regenerate"' in reversed_page  # the corrected bill is made from here

    regenerated = client.post(
        reverse("billing:bill-generate"), {"period": "2025-10", "customer": customer.pk}
    )
    corrected = Bill.objects.get(number="BILL-202510-77-2")
    assert regenerated["Location"] == reverse("billing:bill-detail", args=[corrected.pk])
    history = client.get(regenerated["Location"]).context["history"]
    assert [h.number for h in history] == ["BILL-202510-77", "CN-202510-77-1", "BILL-202510-77-2"]


def test_old_reconcile_address_redirects_to_the_bill_page(client, ops_user):
    bill = BillFactory()
    client.force_login(ops_user)
    response = client.get(reverse("billing:bill-reconcile", args=[bill.pk]))
    assert response["Location"] == reverse("billing:bill-detail", args=[bill.pk])


def test_bill_list_shows_overdue_badge_and_links_to_the_bill_page(client, ops_user):
    overdue = issued_bill(user=ops_user, lines=["10"], due_date=date(2025, 11, 30))
    current = issued_bill(user=ops_user, lines=["10"], due_date=date(2999, 1, 31))
    client.force_login(ops_user)
    page = client.get(reverse("billing:bill-list"), {"period": "2025-10"}).text
    assert page.count("bill-overdue") == 1
    assert reverse("billing:bill-detail", args=[overdue.pk]) in page
    assert reverse("billing:bill-detail", args=[current.pk]) in page
    fragment = client.get(
        reverse("billing:bill-list"), {"period": "2025-10"}, HTTP_HX_REQUEST="true"
    ).text
    assert "bill-overdue" in fragment and "<html" not in fragment
    only_overdue = client.get(
        reverse("billing:bill-list"), {"period": "2025-10", "status": "overdue"}
    )
    assert list(only_overdue.context["page"]) == [overdue]


# --- the billing slot of the customer page -----------------------------------------------


def test_customer_summary_shows_usage_bills_payments_credit_and_grade(client, ops_user, series_l):
    from billing.payments.services import payment_allocate

    customer = CustomerFactory(level="D")
    today = timezone.localdate()
    UsageRecordFactory(customer=customer, series=series_l, shots=4, shot_date=today)
    UsageRecordFactory(customer=customer, series=series_l, shots=9, shot_date=date(2000, 1, 1))
    open_bill = issued_bill(
        user=ops_user,
        customer=customer,
        period=today.replace(day=1),
        lines=["60000.00"],
        due_date=date(2000, 1, 31),
    )
    payment = PaymentFactory(customer=customer, amount=D("1500.00"))
    payment_allocate(user=ops_user, payment=payment, allocations=[(open_bill, D("1000"))])
    client.force_login(ops_user)

    response = client.get(
        reverse("billing:customer-summary", args=[customer.pk]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200 and "<html" not in response.text
    assert response.context["usage"] == [{"series": "L", "months": [0] * 11 + [4], "total": 4}]
    assert response.context["billed_12m"] == D("60000.00")
    assert response.context["open_balance"] == D("59000.00")
    assert response.context["credit"] == D("500.00")
    assert "bill-overdue" in response.text
    assert reverse("billing:bill-detail", args=[open_bill.pk]) in response.text
    assert reverse("billing:payment-detail", args=[payment.pk]) in response.text
    assert reverse("billing:customer-usage", args=[customer.pk]) in response.text
    assert reverse("billing:statement") in response.text
    assert response.context["grade_suggestion"] == "B"
    assert 'id="grade-suggestion"' in response.text


def test_customer_summary_leaves_out_drafts_reversals_and_old_bills(client, ops_user):
    from billing.bills.services import bill_reverse

    customer = CustomerFactory()
    this_month = timezone.localdate().replace(day=1)
    reversed_bill = issued_bill(user=ops_user, customer=customer, period=this_month, lines=["5"])
    bill_reverse(user=ops_user, bill=reversed_bill, reason="更正")
    corrected = f"{reversed_bill.number}-2"
    BillFactory(customer=customer, period=this_month, number=corrected, lines=["70.00"])
    issued_bill(user=ops_user, customer=customer, period=date(2000, 1, 1), lines=["900.00"])
    client.force_login(ops_user)
    response = client.get(reverse("billing:customer-summary", args=[customer.pk]))
    assert response.context["billed_12m"] == D("0.00")


def test_customer_summary_is_scoped_and_grade_only_for_editors(client, sales_user, manager_user):
    own = CustomerFactory(sales_owner=sales_user)
    other = CustomerFactory()
    client.force_login(sales_user)
    assert client.get(reverse("billing:customer-summary", args=[other.pk])).status_code == 404
    own_page = client.get(reverse("billing:customer-summary", args=[own.pk]))
    assert own_page.status_code == 200 and 'id="grade-suggestion"' in own_page.text
    client.force_login(manager_user)
    managed = client.get(reverse("billing:customer-summary", args=[own.pk]))
    assert managed.status_code == 200
    assert 'id="grade-suggestion"' not in managed.text


def test_customer_page_loads_the_billing_slot(client, ops_user):
    customer = CustomerFactory()
    client.force_login(ops_user)
    page = client.get(reverse("customers:customer-detail", args=[customer.pk])).text
    assert reverse("billing:customer-summary", args=[customer.pk]) in page
