"""Reads of the month-end close (月结): the gates with their counts, rows and links."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse

from billing.models import (
    Bill,
    NoUsageConfirmation,
    Payment,
    Period,
    PeriodGateOverride,
    PricePlan,
    ReceiptExplanation,
    UsageRecord,
)
from customers.models import Customer
from customers.selectors import scoped_customers
from opcms.months import month_bounds, month_format

USAGE = "usage"
PLANS = "plans"
ANOMALIES = "anomalies"
DRAFTS = "drafts"
RECEIPTS = "receipts"

GATES = {
    USAGE: "每个结算客户本月都有用量，或已确认“本月无用量”",
    PLANS: "没有结算客户缺少生效的价格方案",
    ANOMALIES: "每个异常都已处理或已说明原因确认",
    DRAFTS: "所有草稿账单都已出账",
    RECEIPTS: "本月收款都已核销或已说明",
}


@dataclass
class Gate:
    key: str
    label: str
    count: int
    link: str
    override: PeriodGateOverride | None = None
    rows: list[Any] = field(default_factory=list)

    @property
    def is_green(self) -> bool:
        return self.count == 0 or self.override is not None


def period_get(month: date) -> Period | None:
    return Period.objects.filter(month=month).first()


def period_is_closed(month: date) -> bool:
    return Period.objects.filter(month=month, status=Period.Status.CLOSED).exists()


def _billable(user: Any):
    return scoped_customers(user).filter(billing_enabled=Customer.BillingEnabled.YES)


def customers_without_usage(*, user: Any, month: date):
    """Billable customers with no usage in the month and no “本月无用量” confirmation."""
    start, end = month_bounds(month)
    usage = UsageRecord.objects.filter(customer=OuterRef("pk")).filter(
        Q(shot_date__range=(start, end), billed_in_period__isnull=True) | Q(billed_in_period=start)
    )
    confirmed = NoUsageConfirmation.objects.filter(customer=OuterRef("pk"), month=start)
    return _billable(user).filter(~Exists(usage), ~Exists(confirmed)).order_by("company_id")


def customers_confirmed_no_usage(*, user: Any, month: date):
    return NoUsageConfirmation.objects.filter(
        customer__in=scoped_customers(user), month=month
    ).select_related("customer", "created_by")


def customers_without_plan(*, user: Any, month: date):
    start, end = month_bounds(month)
    in_force = PricePlan.objects.filter(customer=OuterRef("pk")).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=end),
        Q(valid_to__isnull=True) | Q(valid_to__gte=start),
    )
    return _billable(user).filter(~Exists(in_force)).order_by("company_id")


def month_bills(*, user: Any, month: date):
    return (
        Bill.objects.filter(customer__in=scoped_customers(user), period=month, kind=Bill.Kind.BILL)
        .exclude(status=Bill.Status.REVERSED)
        .select_related("customer")
    )


def open_anomalies(bill: Bill) -> list[dict]:
    return [a for a in bill.anomalies or [] if not a.get("ack")]


def bills_with_open_anomalies(*, user: Any, month: date) -> list[Bill]:
    bills = month_bills(user=user, month=month).exclude(anomalies=[]).order_by("number")
    return [b for b in bills if open_anomalies(b)]


def receipts_unexplained(*, user: Any, month: date):
    start, end = month_bounds(month)
    return (
        Payment.objects.filter(customer__in=scoped_customers(user), received_on__range=(start, end))
        .filter(allocated__lt=F("amount"))
        .filter(~Exists(ReceiptExplanation.objects.filter(payment=OuterRef("pk"))))
        .select_related("customer")
        .order_by("received_on", "pk")
    )


def period_gates(*, user: Any, month: date, with_rows: bool = False) -> list[Gate]:
    """The five gates of the close checklist, each with a count and a link to its rows."""
    period = period_get(month)
    overrides = {o.gate: o for o in period.overrides.select_related("created_by")} if period else {}
    text = month_format(month)
    close_url = reverse("billing:period-close") + f"?period={text}"
    bills_url = reverse("billing:bill-list") + f"?period={text}"
    sources = {
        USAGE: (customers_without_usage(user=user, month=month), f"{close_url}#no-usage"),
        PLANS: (customers_without_plan(user=user, month=month), f"{close_url}#no-plan"),
        ANOMALIES: (bills_with_open_anomalies(user=user, month=month), f"{close_url}#anomalies"),
        DRAFTS: (
            month_bills(user=user, month=month).filter(status=Bill.Status.DRAFT).order_by("number"),
            f"{bills_url}&status=draft",
        ),
        RECEIPTS: (receipts_unexplained(user=user, month=month), f"{close_url}#receipts"),
    }
    gates = []
    for key, label in GATES.items():
        rows, link = sources[key]
        count = len(rows) if isinstance(rows, list) else rows.count()
        gates.append(
            Gate(
                key=key,
                label=label,
                count=count,
                link=link,
                override=overrides.get(key),
                rows=(list(rows[:200]) if with_rows else []),
            )
        )
    return gates


def periods_recent(limit: int = 12):
    return Period.objects.select_related("closed_by", "reopened_by")[:limit]
