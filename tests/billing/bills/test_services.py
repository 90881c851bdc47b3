"""Monthly bill generation: pricing with explanations, idempotent reruns, anomalies, audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.bills.selectors import bill_history, bill_line_usage
from billing.bills.services import (
    bill_add_manual_line,
    bill_issue,
    bill_reverse,
    bills_generate_for_period,
)
from billing.models import Bill, BillLine
from customers.models import Customer
from tests.factories import (
    BillFactory,
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
    UsageRecordFactory,
)

pytestmark = pytest.mark.django_db
OCT = date(2025, 10, 1)


@pytest.fixture
def series_l():
    return DeviceSeriesFactory(code="L")


# --- generation ----------------------------------------------------------------------


def billed_customer(series, **kw):
    customer = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES, **kw)
    return customer


def test_generate_prices_usage_with_explanations(ops_user, series_l):
    customer = billed_customer(series_l, company_id=37)
    PricePlanFactory(
        customer=customer,
        series=series_l,
        single_price=D("14"),
        multi_rule="incremental",
        multi_base=D("14"),
        multi_step=D("10"),
    )
    UsageRecordFactory(customer=customer, series=series_l, shots=10, floors=1)
    UsageRecordFactory(customer=customer, series=series_l, shots=2, floors=2)
    UsageRecordFactory(customer=customer, series=series_l, shots=1, floors=3)
    UsageRecordFactory(customer=customer, series=series_l, shot_date=date(2025, 11, 1))

    result = bills_generate_for_period(period=OCT, user=ops_user)

    bill = Bill.objects.get(customer=customer, period=OCT)
    assert bill.number == "BILL-202510-37"
    assert bill.status == Bill.Status.DRAFT
    assert [line.explanation for line in bill.lines.all()] == [
        "单层 10 次：10×¥14.00 = ¥140.00",
        "多层 3 次，共 7 层：3×¥14.00 + 4×¥10.00 = ¥82.00",
    ]
    assert bill.total == D("222.00")
    assert (result.bills, result.total) == (1, D("222.00"))
    multi = bill.lines.get(floor_type="multi")
    assert sorted(r.floors for r in bill_line_usage(multi)) == [2, 3]


def test_generation_is_idempotent_and_leaves_issued_bills_alone(ops_user, series_l):
    a, b = billed_customer(series_l), billed_customer(series_l)
    for customer in (a, b):
        PricePlanFactory(customer=customer, series=series_l)
        UsageRecordFactory(customer=customer, series=series_l, shots=3)
    first = bills_generate_for_period(period=OCT, user=ops_user)
    Bill.objects.filter(customer=a).update(status=Bill.Status.ISSUED)
    UsageRecordFactory(customer=b, series=series_l, shots=1)
    UsageRecordFactory(customer=a, series=series_l, shots=1)

    second = bills_generate_for_period(period=OCT, user=ops_user)

    assert (first.bills, second.bills, second.skipped_issued) == (2, 1, 1)
    assert Bill.objects.filter(period=OCT).count() == 2
    assert Bill.objects.get(customer=a).total == D("24.00")
    assert Bill.objects.get(customer=b).total == D("32.00")
    assert BillLine.objects.count() == 2


def test_generate_for_one_customer_only(ops_user, series_l):
    a, b = billed_customer(series_l), billed_customer(series_l)
    for customer in (a, b):
        PricePlanFactory(customer=customer, series=series_l)
        UsageRecordFactory(customer=customer, series=series_l)
    result = bills_generate_for_period(period=OCT, user=ops_user, customer_ids=[a.pk])
    assert result.bills == 1
    assert list(Bill.objects.values_list("customer_id", flat=True)) == [a.pk]
    assert b.pk


def codes(customer) -> list[str]:
    return [a["code"] for a in Bill.objects.get(customer=customer).anomalies]


def test_anomalies_are_flagged(ops_user, series_l):
    no_usage = billed_customer(series_l)
    PricePlanFactory(customer=no_usage, series=series_l)
    no_plan = CustomerFactory()
    UsageRecordFactory(customer=no_plan, series=series_l, shots=4)
    spike = billed_customer(series_l)
    PricePlanFactory(customer=spike, series=series_l)
    for month in range(4, 10):
        UsageRecordFactory(customer=spike, series=series_l, shot_date=date(2025, month, 3))
    UsageRecordFactory(customer=spike, series=series_l, shots=30)
    silent = CustomerFactory()  # no usage, no plan, billing not switched on: no bill
    disabled = CustomerFactory(billing_enabled=Customer.BillingEnabled.NO)
    UsageRecordFactory(customer=disabled, series=series_l)

    result = bills_generate_for_period(period=OCT, user=ops_user)

    # No usage and no fixed fee: no ¥0.00 bill (the close page lists it as 本月无用量).
    # Usage without any plan cannot be billed either: the close page's plans gate lists it.
    assert not Bill.objects.filter(customer__in=[no_usage, no_plan, silent, disabled]).exists()
    assert codes(spike) == ["spike"]
    assert result.bills == 1
    assert result.bills_with_anomalies == 1
    assert {a["bill"] for a in result.anomalies} == {f"BILL-202510-{spike.company_id}"}


def test_plan_changing_mid_month_prices_each_part(ops_user, series_l):
    customer = billed_customer(series_l)
    PricePlanFactory(customer=customer, series=series_l, valid_to=date(2025, 10, 15))
    PricePlanFactory(
        customer=customer, series=series_l, valid_from=date(2025, 10, 16), single_price=D("10")
    )
    UsageRecordFactory(customer=customer, series=series_l, shot_date=date(2025, 10, 3), shots=2)
    UsageRecordFactory(customer=customer, series=series_l, shot_date=date(2025, 10, 20), shots=3)

    bills_generate_for_period(period=OCT, user=ops_user)

    bill = Bill.objects.get(customer=customer)
    assert [line.amount for line in bill.lines.all()] == [D("16.00"), D("30.00")]
    assert bill.total == D("46.00")


def test_annual_package_overage_counts_the_contract_year(ops_user, series_l):
    customer = billed_customer(series_l)
    PricePlanFactory(
        customer=customer,
        series=series_l,
        kind="annual",
        single_price=None,
        annual_fee=D("12000"),
        annual_quota=10,
        overage_price=D("9"),
        fee_schedule="monthly",
        contract_start=date(2025, 9, 1),
    )
    UsageRecordFactory(customer=customer, series=series_l, shot_date=date(2025, 8, 5), shots=50)
    UsageRecordFactory(customer=customer, series=series_l, shot_date=date(2025, 9, 5), shots=8)
    UsageRecordFactory(customer=customer, series=series_l, shots=5)

    bills_generate_for_period(period=OCT, user=ops_user)

    bill = Bill.objects.get(customer=customer)
    assert [line.amount for line in bill.lines.all()] == [D("1000.00"), D("0.00"), D("27.00")]


def test_sales_cannot_generate(sales_user):
    with pytest.raises(PermissionDenied):
        bills_generate_for_period(period=OCT, user=sales_user)


def result_pk(index: int) -> int:
    return Customer.objects.order_by("pk").values_list("pk", flat=True)[index]


def test_queries_do_not_grow_with_customers(ops_user, series_l):
    def make(n):
        for _ in range(n):
            customer = billed_customer(series_l)
            PricePlanFactory(customer=customer, series=series_l)
            UsageRecordFactory(customer=customer, series=series_l, shots=2, floors=2)

    make(3)
    bills_generate_for_period(period=date(2025, 9, 1), user=ops_user)  # warms ContentType cache
    with CaptureQueriesContext(connection) as small:
        bills_generate_for_period(period=OCT, user=ops_user)
    make(60)
    BillLine.objects.all().delete()
    Bill.objects.all().delete()
    with CaptureQueriesContext(connection) as large:
        result = bills_generate_for_period(period=OCT, user=ops_user)
    assert result.bills == 63
    assert len(large.captured_queries) == len(small.captured_queries)
    one = [result_pk(0)]
    with CaptureQueriesContext(connection) as rerun_small:
        bills_generate_for_period(period=OCT, user=ops_user, customer_ids=one)
    with CaptureQueriesContext(connection) as rerun_large:
        bills_generate_for_period(period=OCT, user=ops_user)
    assert len(rerun_large.captured_queries) == len(rerun_small.captured_queries)


def test_generation_is_audited_as_one_entry(client, admin_user, ops_user, series_l):
    customer = billed_customer(series_l)
    PricePlanFactory(customer=customer, series=series_l, single_price=D("12.50"))
    UsageRecordFactory(customer=customer, series=series_l, shots=2)
    bills_generate_for_period(period=OCT, user=ops_user)
    entry = LogEntry.objects.get(content_type__model="bill", object_pk="")
    assert entry.actor == ops_user
    assert entry.object_repr == "生成 2025-10 草稿账单 1 张，合计 ¥25.00"
    client.force_login(admin_user)
    assert "生成 2025-10 草稿账单" in client.get(reverse("accounts:audit-list")).text


def test_draft_no_longer_wanted_is_removed_on_rerun(ops_user, series_l):
    kept = billed_customer(series_l)
    gone = CustomerFactory()
    for customer in (kept, gone):
        PricePlanFactory(customer=customer, series=series_l)
        UsageRecordFactory(customer=customer, series=series_l, shots=2)
    bills_generate_for_period(period=OCT, user=ops_user)
    gone.usage_records.all().delete()
    UsageRecordFactory(customer=kept, series=series_l, shots=1)

    bills_generate_for_period(period=OCT, user=ops_user)

    assert list(Bill.objects.values_list("customer_id", flat=True)) == [kept.pk]
    kept_bill = Bill.objects.get(customer=kept)
    assert kept_bill.total == D("24.00")
    assert [line.amount for line in kept_bill.lines.all()] == [D("24.00")]


def test_usage_before_a_mid_month_plan_is_flagged_not_priced(ops_user, series_l):
    customer = billed_customer(series_l)
    PricePlanFactory(customer=customer, series=series_l, valid_from=date(2025, 10, 10))
    UsageRecordFactory(customer=customer, series=series_l, shot_date=date(2025, 10, 2), shots=5)
    UsageRecordFactory(customer=customer, series=series_l, shot_date=date(2025, 10, 12), shots=1)

    bills_generate_for_period(period=OCT, user=ops_user)

    bill = Bill.objects.get(customer=customer)
    assert bill.total == D("8.00")
    assert bill.anomalies[0]["message"] == "L 系列有 5 次拍摄不在任何方案的有效期内"


# --- generation meets the bill lifecycle (issues 5 and 6 together) ----------------------


def test_generation_after_a_reversal_numbers_the_corrected_bill(ops_user, series_l):
    customer = billed_customer(series_l, company_id=41)
    PricePlanFactory(customer=customer, series=series_l)
    UsageRecordFactory(customer=customer, series=series_l, shots=3)
    bills_generate_for_period(period=OCT, user=ops_user)
    original = bill_issue(user=ops_user, bill=Bill.objects.get(customer=customer))
    note = bill_reverse(user=ops_user, bill=original, reason="用量重复计入")

    bills_generate_for_period(period=OCT, user=ops_user)

    corrected = Bill.objects.get(customer=customer, kind=Bill.Kind.BILL, status=Bill.Status.DRAFT)
    assert corrected.number == "BILL-202510-41-2"
    corrected = bill_issue(user=ops_user, bill=corrected)
    assert corrected.status == Bill.Status.ISSUED
    assert [b.pk for b in bill_history(corrected)] == [original.pk, note.pk, corrected.pk]


def test_second_reversal_takes_the_next_suffix(ops_user, series_l):
    customer = billed_customer(series_l, company_id=42)
    PricePlanFactory(customer=customer, series=series_l)
    UsageRecordFactory(customer=customer, series=series_l, shots=1)
    for _ in range(2):
        bills_generate_for_period(period=OCT, user=ops_user)
        draft = Bill.objects.get(customer=customer, status=Bill.Status.DRAFT)
        bill_reverse(user=ops_user, bill=bill_issue(user=ops_user, bill=draft), reason="更正")

    bills_generate_for_period(period=OCT, user=ops_user)

    draft = Bill.objects.get(customer=customer, status=Bill.Status.DRAFT)
    assert draft.number == "BILL-202510-42-3"


def test_regeneration_keeps_manual_lines(ops_user, series_l):
    customer = billed_customer(series_l)
    PricePlanFactory(customer=customer, series=series_l, single_price=D("10"))
    UsageRecordFactory(customer=customer, series=series_l, shots=3)
    bills_generate_for_period(period=OCT, user=ops_user)
    draft = Bill.objects.get(customer=customer)
    bill_add_manual_line(
        user=ops_user, bill=draft, amount=D("-5.50"), explanation="安装减免", reason="合同约定"
    )
    UsageRecordFactory(customer=customer, series=series_l, shots=2)

    bills_generate_for_period(period=OCT, user=ops_user)

    bill = Bill.objects.get(customer=customer)
    manual = bill.lines.get(line_type=BillLine.LineType.MANUAL)
    assert (manual.amount, manual.explanation, manual.reason) == (
        D("-5.50"),
        "安装减免",
        "合同约定",
    )
    assert manual.created_by == ops_user
    assert manual.position == bill.lines.count()
    assert bill.total == D("44.50") == sum(line.amount for line in bill.lines.all())
    assert bill_issue(user=ops_user, bill=bill).total == D("44.50")


def test_regeneration_keeps_text_verbatim_through_the_bulk_write(ops_user, series_l):
    """Bills and lines are written by COPY in its text format: tabs, newlines, backslashes
    and a literal \\N in a clerk's text, and quotes in an anomaly, come back unchanged."""
    customer = billed_customer(series_l)
    PricePlanFactory(customer=customer, series=series_l, single_price=D("10"))
    UsageRecordFactory(customer=customer, series=series_l, shots=3)
    odd = DeviceSeriesFactory(code='M\\"7')
    UsageRecordFactory(customer=customer, series=odd, shots=1)  # no plan: an anomaly
    bills_generate_for_period(period=OCT, user=ops_user)
    explanation, reason = "减免\t一\n二 C:\\path \\N", "合同\r约定\\"
    bill_add_manual_line(
        user=ops_user,
        bill=Bill.objects.get(customer=customer),
        amount=D("-5"),
        explanation=explanation,
        reason=reason,
    )

    bills_generate_for_period(period=OCT, user=ops_user)

    bill = Bill.objects.get(customer=customer)
    manual = bill.lines.get(line_type=BillLine.LineType.MANUAL)
    assert (manual.explanation, manual.reason, manual.amount) == (explanation, reason, D("-5"))
    assert [a["message"] for a in bill.anomalies] == [
        'M\\"7 系列本月有用量 1 次，但没有生效的价格方案'
    ]
    assert bill.total == D("25.00")


def test_regeneration_keeps_a_manual_only_draft(ops_user, series_l):
    customer = billed_customer(series_l)
    draft = BillFactory(customer=customer, period=OCT)
    bill_add_manual_line(
        user=ops_user, bill=draft, amount=D("300"), explanation="培训费", reason="一次性服务"
    )

    bills_generate_for_period(period=OCT, user=ops_user)

    bill = Bill.objects.get(customer=customer)
    assert [line.line_type for line in bill.lines.all()] == [BillLine.LineType.MANUAL]
    assert bill.total == D("300.00")
    assert "zero_total" not in [a["code"] for a in bill.anomalies]


def test_issue_locks_the_plans_that_priced_the_bill(ops_user, series_l):
    customer = billed_customer(series_l)
    plan = PricePlanFactory(customer=customer, series=series_l)
    unused = PricePlanFactory(series=series_l)
    UsageRecordFactory(customer=customer, series=series_l, shots=2)
    bills_generate_for_period(period=OCT, user=ops_user)
    plan.refresh_from_db()
    assert plan.is_locked is False

    bill_issue(user=ops_user, bill=Bill.objects.get(customer=customer))

    plan.refresh_from_db()
    unused.refresh_from_db()
    assert (plan.is_locked, unused.is_locked) == (True, False)
