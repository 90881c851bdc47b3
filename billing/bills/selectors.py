"""Reads of bills: the month list and totals, open and overdue bills, history, numbering, summary."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DateField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth

from billing.models import Bill, BillLine, Payment, PaymentAllocation, PricePlan, UsageRecord
from customers.models import Customer
from customers.selectors import scoped_customers
from opcms.months import month_bounds, month_shift


def bills_totals(qs: QuerySet[Bill]) -> dict[str, Any]:
    totals = qs.order_by().aggregate(count=Count("id"), total=Sum("total"), paid=Sum("amount_paid"))
    totals["total"] = totals["total"] or Decimal("0")
    totals["paid"] = totals["paid"] or Decimal("0")
    totals["balance"] = totals["total"] - totals["paid"]
    totals["with_anomalies"] = qs.exclude(anomalies=[]).count()
    return totals


def bill_line_usage(line: BillLine) -> QuerySet[UsageRecord]:
    """The usage records a bill line priced: same customer, series, month and floor type,
    restricted to the dates its plan was in force."""
    bill = line.bill
    start, end = month_bounds(bill.period)
    qs = UsageRecord.objects.filter(
        customer_id=bill.customer_id, shot_date__range=(start, end)
    ).order_by("shot_date", "pk")
    if line.series_id:
        qs = qs.filter(series_id=line.series_id)
    if line.plan_id:
        plan = line.plan
        if plan.valid_from:
            qs = qs.filter(shot_date__gte=plan.valid_from)
        if plan.valid_to:
            qs = qs.filter(shot_date__lte=plan.valid_to)
    if line.floor_type == "single":
        qs = qs.filter(floors=1)
    elif line.floor_type == "multi":
        qs = qs.filter(floors__gt=1)
    return qs


# --- lifecycle, payments and reconciliation (issue 6) ---

OPEN_STATUSES = (Bill.Status.ISSUED, Bill.Status.PARTIALLY_PAID)


def overdue_q(today: date, *, prefix: str = "") -> Q:
    """Overdue is derived, never stored: open, past its due date, something still owed."""
    return Q(
        **{
            f"{prefix}kind": Bill.Kind.BILL,
            f"{prefix}status__in": OPEN_STATUSES,
            f"{prefix}due_date__lt": today,
            f"{prefix}total__gt": F(f"{prefix}amount_paid"),
        }
    )


def scoped_bills(user: Any) -> QuerySet[Bill]:
    return Bill.objects.filter(customer__in=scoped_customers(user)).select_related("customer")


def bills_open_for_customer(customer: Any) -> QuerySet[Bill]:
    """Bills that can still take money, oldest first (the order oldest-first allocation uses)."""
    return Bill.objects.filter(
        customer=customer, kind=Bill.Kind.BILL, status__in=OPEN_STATUSES
    ).order_by(F("due_date").asc(nulls_last=True), "period", "pk")


def payer_customer_ids(customer_id: int) -> set[int]:
    """Whose bills a payment of this customer may settle: its own, and, when it is a
    group's head office (总部), those of the group's members."""
    members = Customer.objects.filter(group__head_office_id=customer_id).values_list(
        "pk", flat=True
    )
    return {customer_id, *members}


def bills_open_for_payer(customer_id: int) -> QuerySet[Bill]:
    """Open bills a payment of this customer may settle, oldest first across the group."""
    return Bill.objects.filter(
        customer_id__in=payer_customer_ids(customer_id),
        kind=Bill.Kind.BILL,
        status__in=OPEN_STATUSES,
    ).order_by(F("due_date").asc(nulls_last=True), "period", "pk")


def bill_history(bill: Bill) -> list[Bill]:
    """Every bill and credit note of the bill's customer and month, oldest first.

    Reads as the correction chain: bill → credit note → corrected bill.
    """
    return list(
        Bill.objects.filter(customer_id=bill.customer_id, period=bill.period)
        .select_related("reverses")
        .order_by("generated_at", "pk")
    )


def bill_number_for(*, company_id: int, period: date) -> str:
    """The number for a new bill: `BILL-YYYYMM-<company_id>`, or `…-2`, `…-3` after reversals.

    Bill numbers are unique and a reversed bill keeps its number (the customer has
    it on paper), so the corrected bill of the same month takes the next suffix.
    """
    base = f"BILL-{period:%Y%m}-{company_id}"
    taken = set(Bill.objects.filter(number__startswith=base).values_list("number", flat=True))
    return bill_number_next(base=base, taken=taken)


def bill_number_next(*, base: str, taken: set[str]) -> str:
    """`base` if free, else the first free `base-2`, `base-3`… (bulk generation reads `taken` once)."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# --- the billing slot of the customer page ---

BILLED_STATUSES = (Bill.Status.ISSUED, Bill.Status.PARTIALLY_PAID, Bill.Status.PAID)
SUMMARY_MONTHS = 12
SUMMARY_PAYMENTS = 5


def customer_billing_summary(*, customer: Any, today: date) -> dict[str, Any]:
    """Usage, open bills, payments and credit of one customer (already fetched through scope).

    The window is the 12 months ending with the current one. "Billed" counts live,
    issued bills only (drafts are not billed yet; reversed bills net out with their
    credit notes), as the receivables reports do; it feeds the grade suggestion.
    """
    first = month_shift(today.replace(day=1), -(SUMMARY_MONTHS - 1))
    months = [month_shift(first, i) for i in range(SUMMARY_MONTHS)]
    rows = (
        UsageRecord.objects.filter(customer=customer, shot_date__gte=first)
        .order_by()
        .annotate(month=TruncMonth("shot_date"))
        .values("series__code", "month")
        .annotate(shots=Sum("shots"))
    )
    by_series: dict[str, dict[date, int]] = {}
    for r in rows:
        month = r["month"].date() if hasattr(r["month"], "date") else r["month"]
        by_series.setdefault(r["series__code"], {})[month] = r["shots"]
    usage = [
        {
            "series": code,
            "months": [counts.get(m, 0) for m in months],
            "total": sum(counts.values()),
        }
        for code, counts in sorted(by_series.items())
    ]
    billed = Bill.objects.filter(
        customer=customer, kind=Bill.Kind.BILL, status__in=BILLED_STATUSES, period__gte=first
    ).aggregate(s=Sum("total"))["s"] or Decimal("0.00")
    open_bills = list(bills_open_for_customer(customer))
    payments = Payment.objects.filter(customer=customer).aggregate(
        amount=Sum("amount"), allocated=Sum("allocated")
    )
    return {
        "months": months,
        "usage": usage,
        "billed_12m": billed,
        "open_bills": open_bills,
        "open_balance": sum((b.balance for b in open_bills), Decimal("0.00")),
        "overdue_count": sum(1 for b in open_bills if b.is_overdue),
        "recent_payments": list(
            Payment.objects.filter(customer=customer).order_by("-received_on", "-pk")[
                :SUMMARY_PAYMENTS
            ]
        ),
        "credit": (payments["amount"] or Decimal("0.00"))
        - (payments["allocated"] or Decimal("0.00")),
        "plans": list(
            PricePlan.objects.filter(customer=customer)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
            .select_related("series")
            .order_by("series__code", "version")
        ),
    }


# --- how bills were paid against their due date (the scorecard, issue 15) ---
# One definition for the scorecard's figures and the bill list's drill-down filters, so a
# figure and the rows it links to cannot disagree.


def paid_by_due_plus(days: int) -> Coalesce:
    """What a bill had been paid `days` days after its due date: its active (not undone)
    allocations from payments received on or before due date + days."""
    deadline = ExpressionWrapper(
        OuterRef("due_date") + timedelta(days=days), output_field=DateField()
    )
    paid = (
        PaymentAllocation.objects.filter(
            bill=OuterRef("pk"), undone_at__isnull=True, payment__received_on__lte=deadline
        )
        .order_by()
        .values("bill")
        .annotate(amount=Sum("amount"))
        .values("amount")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(Subquery(paid, output_field=money), Value(Decimal("0.00")), output_field=money)


def assessed_after_due_q(days: int, *, today: date) -> Q:
    """Live issued bills whose due date + `days` has passed: their payment record by that
    day is final, so they can be judged."""
    return Q(
        kind=Bill.Kind.BILL,
        status__in=BILLED_STATUSES,
        due_date__isnull=False,
        due_date__lt=today - timedelta(days=days),
    )


def unpaid_after_due(qs: QuerySet[Bill], days: int, *, today: date) -> QuerySet[Bill]:
    """The judged bills (see assessed_after_due_q) not fully paid `days` days after their due
    date: days=0 is "late" (逾期), 90 the scorecard's bad-debt proxy."""
    return (
        qs.filter(assessed_after_due_q(days, today=today))
        .annotate(paid_by_deadline=paid_by_due_plus(days))
        .filter(total__gt=F("paid_by_deadline"))
    )


def ever_issued_q() -> Q:
    """Bills that left draft: issued, paid or since reversed (the accuracy denominator)."""
    return Q(kind=Bill.Kind.BILL) & ~Q(status=Bill.Status.DRAFT)


def corrected_q() -> Q:
    """An issued bill that needed a human correction: reversed (冲正), or carrying a manual
    line (手工调整)."""
    manual = BillLine.objects.filter(bill=OuterRef("pk"), line_type=BillLine.LineType.MANUAL)
    return ever_issued_q() & (Q(status=Bill.Status.REVERSED) | Q(Exists(manual)))
