"""Bill pages: list, scope (out-of-scope ids answer 404), detail, drill-down, customer summary."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Bill
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
    # The filters are Bootstrap controls (label above each), not bare browser widgets.
    assert '<select name="status" class="form-select"' in response.text
    assert 'name="q" class="form-control" placeholder="名称、公司id或账单号"' in response.text
    assert 'name="anomalies" class="form-check-input"' in response.text
    filtered = client.get(reverse("billing:bill-list"), {"period": "2025-10", "anomalies": "on"})
    assert filtered.context["totals"]["count"] == 1


def test_sales_sees_only_own_bills_and_cannot_generate(client, sales_user):
    own = BillFactory(customer=CustomerFactory(sales_owner=sales_user))
    other = BillFactory()
    client.force_login(sales_user)
    response = client.get(reverse("billing:bill-list"), {"period": "2025-10"})
    assert [row.record for row in response.context["table"].page.object_list] == [own]
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
    assert [row.record for row in only_overdue.context["table"].page.object_list] == [overdue]


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

    url = reverse("billing:customer-summary", args=[customer.pk])
    response = client.get(url, HTTP_HX_REQUEST="true")
    # The figures from the full page's context: the test client records the context of a
    # template render, and the fragment (a partial of the same template) records none.
    figures = client.get(url).context

    assert response.status_code == 200 and "<html" not in response.text
    assert figures["usage"] == [{"series": "L", "months": [0] * 11 + [4], "total": 4}]
    assert figures["billed_12m"] == D("60000.00")
    assert figures["open_balance"] == D("59000.00")
    assert figures["credit"] == D("500.00")
    assert "bill-overdue" in response.text
    assert reverse("billing:bill-detail", args=[open_bill.pk]) in response.text
    assert reverse("billing:payment-detail", args=[payment.pk]) in response.text
    assert reverse("billing:customer-usage", args=[customer.pk]) in response.text
    assert reverse("billing:statement") in response.text
    assert figures["grade_suggestion"] == "B"
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


def test_bill_list_sorts_and_pages_on_the_server(client, ops_user):
    for total in ("30", "10", "20"):
        BillFactory(total=D(total))
    client.force_login(ops_user)
    url = reverse("billing:bill-list")

    page = client.get(url, {"period": "2025-10", "sort": "-total"})
    fragment = client.get(url, {"period": "2025-10", "sort": "total"}, HTTP_HX_REQUEST="true")

    totals = [row.record.total for row in page.context["table"].page.object_list]
    assert totals == [D("30"), D("20"), D("10")]
    assert fragment.text.index("¥10.00") < fragment.text.index("¥30.00")
    assert "<html" not in fragment.text and 'hx-select="#bill-table"' in fragment.text


def test_bill_list_links_to_bills_leave_the_boosted_table(client, ops_user):
    bill = BillFactory(anomalies=[{"code": "spike", "message": "用量异常"}])
    client.force_login(ops_user)

    page = client.get(reverse("billing:bill-list"), {"period": "2025-10"}).text

    detail = reverse("billing:bill-detail", args=[bill.pk])
    links = re.findall(r"<a [^>]*>", page)
    to_bill = [a for a in links if f'href="{detail}' in a]
    assert len(to_bill) == 2  # the number and the anomaly badge
    assert all('hx-boost="false"' in a for a in to_bill)
