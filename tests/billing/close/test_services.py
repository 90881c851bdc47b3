"""Month-end close: each gate blocks the close, overrides, reopening, anomaly rules, late usage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Notification, NotificationKind, WebhookDelivery
from billing.bills.services import (
    SPIKE_MIN_SHOTS,
    bills_generate_for_period,
    spike_message,
)
from billing.close.selectors import period_gates
from billing.close.services import (
    anomaly_acknowledge,
    no_usage_confirm,
    period_close,
    period_gate_override,
    period_reopen,
    receipt_explain,
)
from billing.models import Bill, Period, UsageRecord
from billing.usage.services import usage_ingest
from customers.models import Customer
from tests.factories import (
    BillFactory,
    CustomerFactory,
    DeviceSeriesFactory,
    PaymentFactory,
    PeriodFactory,
    PricePlanFactory,
    UsageRecordFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db
OCT = date(2025, 10, 1)
NOV = date(2025, 11, 1)


@pytest.fixture
def series():
    return DeviceSeriesFactory(code="L")


def billable(series, *, plan=True, usage=True, **kw):
    customer = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES, **kw)
    if plan:
        PricePlanFactory(customer=customer, series=series, single_price=D("10"))
    if usage:
        UsageRecordFactory(customer=customer, series=series, shot_date=date(2025, 10, 8))
    return customer


def _no_usage(series):
    return billable(series, usage=False)


def _no_plan(series):
    return billable(series, plan=False)


def _anomaly(series):
    return BillFactory(
        status=Bill.Status.ISSUED, anomalies=[{"code": "spike", "series": "", "message": "突增"}]
    )


def _draft(series):
    return BillFactory(status=Bill.Status.DRAFT)


def _receipt(series):
    return PaymentFactory(received_on=date(2025, 10, 20))


@pytest.mark.parametrize(
    ("gate", "make"),
    [
        ("usage", _no_usage),
        ("plans", _no_plan),
        ("anomalies", _anomaly),
        ("drafts", _draft),
        ("receipts", _receipt),
    ],
)
def test_each_gate_blocks_the_close(ops_user, series, gate, make):
    # Given a month where exactly one gate is red
    make(series)
    gates = {g.key: g for g in period_gates(user=ops_user, month=OCT)}
    assert [k for k, g in gates.items() if not g.is_green] == [gate]
    assert gates[gate].count == 1

    # When ops tries to close it, then it is refused and the month stays open
    with pytest.raises(ValidationError, match="还不能关账"):
        period_close(user=ops_user, period=OCT)
    assert not Period.objects.filter(status=Period.Status.CLOSED).exists()


def test_clearing_every_gate_lets_the_month_close(ops_user, series):
    quiet = _no_usage(series)
    bill = _anomaly(series)
    payment = _receipt(series)
    no_usage_confirm(user=ops_user, period=OCT, customers=[quiet], reason="停工")
    anomaly_acknowledge(user=ops_user, bill=bill, reason="客户旺季，已电话确认")
    receipt_explain(user=ops_user, payment=payment, reason="预收下季度服务费")

    period = period_close(user=ops_user, period=OCT)

    assert period.is_closed and period.closed_by == ops_user
    assert Bill.objects.get(pk=bill.pk).anomalies[0]["ack"]["reason"] == "客户旺季，已电话确认"


def test_only_an_admin_overrides_a_gate_and_it_is_audited(ops_user, admin_user, series):
    _draft(series)
    with pytest.raises(PermissionDenied):
        period_gate_override(user=ops_user, period=OCT, gate="drafts", reason="x")
    with pytest.raises(PermissionDenied):
        period_close(user=ops_user, period=OCT, force_reason="赶时间")

    period_gate_override(user=admin_user, period=OCT, gate="drafts", reason="草稿待下月处理")

    assert period_close(user=ops_user, period=OCT).is_closed
    assert LogEntry.objects.filter(object_repr__contains="豁免 2025-10 关账检查").exists()


def test_closing_emits_the_period_closed_webhook(ops_user, django_capture_on_commit_callbacks):
    WebhookSubscriptionFactory(events=["period.closed"])
    period_close(user=ops_user, period=OCT)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "period.closed" and '"period": "2025-10"' in delivery.body


def test_reopening_is_admin_only_audited_and_ops_are_told(ops_user, admin_user):
    period_close(user=ops_user, period=OCT)
    with pytest.raises(PermissionDenied):
        period_reopen(user=ops_user, period=OCT, reason="想改")
    with pytest.raises(ValidationError):
        period_reopen(user=admin_user, period=OCT, reason=" ")

    period = period_reopen(user=admin_user, period=OCT, reason="客户补交了 10 月的用量单")

    assert not period.is_closed and period.reopen_reason == "客户补交了 10 月的用量单"
    entry = LogEntry.objects.get(object_repr="重开 2025-10")
    assert entry.actor == admin_user and "客户补交了 10 月的用量单" in str(entry.changes)
    note = Notification.objects.get(recipient=ops_user)
    assert note.kind == NotificationKind.PERIOD_REOPENED and "2025-10" in note.title


# --- anomalies worth reading ---------------------------------------------------------


@pytest.mark.parametrize(
    ("month_shots", "history", "flagged"),
    [
        (SPIKE_MIN_SHOTS - 1, [1, 1, 1], False),  # far above the median but under the minimum
        (1, [0, 0, 0.2], False),  # the demo's "1 shot against a 0.2 average"
        (40, [10, 12, 11], True),  # 40 > 3 × 11
        (40, [10, 15, 20], False),  # 40 <= 3 × 15
        (40, [0, 0, 0, 0, 10, 12], True),  # months without usage do not drag the baseline
        (40, [2, 14, 14, 100], False),  # median of 2, 14, 14, 100 is 14: one odd month ignored
        (100, [], False),  # no history: nothing to compare with
    ],
)
def test_spike_rule_on_worked_examples(month_shots, history, flagged):
    assert bool(spike_message(month_shots=month_shots, history_months=history)) is flagged


def test_no_bill_without_usage_or_fixed_fee(ops_user, series):
    quiet = _no_usage(series)
    minimum = billable(series, usage=False, plan=False)
    PricePlanFactory(customer=minimum, series=series, minimum_charge=D("100"))

    result = bills_generate_for_period(period=OCT, user=ops_user)

    assert not Bill.objects.filter(customer=quiet).exists()
    assert Bill.objects.get(customer=minimum).total == D("100.00")
    assert result.bills == 1
    gate = next(g for g in period_gates(user=ops_user, month=OCT) if g.key == "usage")
    assert gate.count == 2  # both listed as 本月无用量 until confirmed


def test_acknowledgement_survives_regeneration(ops_user, series):
    customer = billable(series)
    UsageRecordFactory(customer=customer, series=DeviceSeriesFactory(code="X"))  # no plan
    bills_generate_for_period(period=OCT, user=ops_user)
    bill = Bill.objects.get(customer=customer)
    assert bill.anomalies
    anomaly_acknowledge(user=ops_user, bill=bill, reason="单价待合同确认")

    bills_generate_for_period(period=OCT, user=ops_user)

    assert all(a.get("ack") for a in Bill.objects.get(customer=customer).anomalies)


# --- late usage -----------------------------------------------------------------------


def test_late_usage_lands_in_the_next_open_month_naming_its_month(ops_user, series):
    customer = billable(series)
    PeriodFactory(month=OCT)

    result = usage_ingest(
        records=[
            {
                "company_id": customer.company_id,
                "series": "L",
                "shot_date": "2025-10-28",
                "shots": 3,
                "floors": 1,
                "source_ref": "LATE-1",
            }
        ],
        user=ops_user,
    )

    assert result.created == 1 and result.late == 1
    record = UsageRecord.objects.get(source_ref="LATE-1")
    assert record.shot_date == date(2025, 10, 28) and record.billed_in_period == NOV
    bills_generate_for_period(period=NOV, user=ops_user)
    line = Bill.objects.get(period=NOV).lines.get()
    assert line.explanation.startswith("2025-10 补计用量（L）")
    assert line.amount == D("30.00")


def test_zero_total_is_flagged_only_when_a_charge_was_cancelled(ops_user, series):
    free = billable(series, plan=False)
    PricePlanFactory(customer=free, series=series, single_price=D("0"))
    discounted = billable(series, plan=False)
    PricePlanFactory(
        customer=discounted,
        series=series,
        single_price=D("10"),
        discount_kind="percent",
        discount_value=D("100"),
        discount_reason="试用期",
    )
    no_plan = billable(series, plan=False)

    bills_generate_for_period(period=OCT, user=ops_user)

    assert Bill.objects.get(customer=free).anomalies == []
    assert [a["code"] for a in Bill.objects.get(customer=discounted).anomalies] == ["zero_total"]
    assert not Bill.objects.filter(customer=no_plan).exists()
    gate = next(g for g in period_gates(user=ops_user, month=OCT) if g.key == "plans")
    assert gate.count == 1
