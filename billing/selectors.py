"""Reads for billing: bills, lines, usage, plans and payments, always through the customer scope."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from customers.selectors import parse_id, scoped_customers, search_term

from .models import Bill, BillLine, Payment, PaymentAllocation, PricePlan, UsageRecord
from .pricing import Band, PlanTerms


def month_bounds(period: date) -> tuple[date, date]:
    start = period.replace(day=1)
    return start, start.replace(day=calendar.monthrange(start.year, start.month)[1])


def month_shift(period: date, months: int) -> date:
    index = period.year * 12 + period.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def scoped_usage(user: Any) -> QuerySet[UsageRecord]:
    return UsageRecord.objects.filter(customer__in=scoped_customers(user))


def scoped_plans(user: Any) -> QuerySet[PricePlan]:
    return PricePlan.objects.filter(customer__in=scoped_customers(user))


def bills_for_month(
    user: Any, *, period: date, status: str = "", query: str = "", anomalies_only: bool = False
) -> QuerySet[Bill]:
    qs = (
        scoped_bills(user)
        .filter(period=period.replace(day=1), kind=Bill.Kind.BILL)
        .select_related("customer")
        .order_by("customer__company_id")
    )
    if status == "overdue":
        qs = qs.filter(overdue_q(timezone.localdate()))
    elif status:
        qs = qs.filter(status=status)
    query = search_term(query)
    if query:
        condition = Q(customer__name__icontains=query) | Q(number__icontains=query)
        if (number := parse_id(query)) is not None:
            condition |= Q(customer__company_id=number)
        qs = qs.filter(condition)
    if anomalies_only:
        qs = qs.exclude(anomalies=[])
    return qs


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


def plan_in_force(*, customer_id: int, series_id: int, day: date) -> PricePlan | None:
    return (
        PricePlan.objects.filter(customer_id=customer_id, series_id=series_id)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .first()
    )


def bands_from_json(raw: list | None) -> tuple[Band, ...]:
    bands = []
    for item in raw or []:
        up_to = item.get("up_to")
        bands.append(
            Band(
                up_to=int(up_to) if up_to not in (None, "") else None,
                price=Decimal(str(item.get("price") or 0)),
            )
        )
    return tuple(bands)


def plan_terms(plan: PricePlan) -> PlanTerms:
    """The frozen pricing terms of a stored plan, as the pure engines take them."""
    return PlanTerms(
        kind=plan.kind,
        single_price=plan.single_price,
        multi_rule=plan.multi_rule,
        multi_price=plan.multi_price,
        multi_base=plan.multi_base,
        multi_step=plan.multi_step,
        per_area=plan.per_area,
        area_price=plan.area_price,
        tier_mode=plan.tier_mode,
        tier_unit=plan.tier_unit,
        bands_shared=bands_from_json(plan.bands_shared),
        bands_single=bands_from_json(plan.bands_single),
        bands_multi=bands_from_json(plan.bands_multi),
        annual_fee=plan.annual_fee,
        annual_quota=plan.annual_quota,
        overage_price=plan.overage_price,
        fee_schedule=plan.fee_schedule,
        contract_start=plan.contract_start or plan.valid_from,
        minimum_charge=plan.minimum_charge,
        discount_kind=plan.discount_kind,
        discount_value=plan.discount_value,
        discount_reason=plan.discount_reason,
    )


def plan_is_locked(plan: PricePlan) -> bool:
    """Locked once it priced a bill that left draft (issued, paid or reversed)."""
    if plan.is_locked or plan.pk is None:
        return plan.is_locked
    return BillLine.objects.filter(plan=plan).exclude(bill__status=Bill.Status.DRAFT).exists()


def last_day(period: date) -> date:
    return month_bounds(period)[1]


def day_before(day: date) -> date:
    return day - timedelta(days=1)


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


def scoped_payments(user: Any) -> QuerySet[Payment]:
    return Payment.objects.filter(customer__in=scoped_customers(user)).select_related("customer")


def scoped_allocations(user: Any) -> QuerySet[PaymentAllocation]:
    return PaymentAllocation.objects.filter(
        bill__customer__in=scoped_customers(user)
    ).select_related("bill", "payment", "bill__customer")


def bills_open_for_customer(customer: Any) -> QuerySet[Bill]:
    """Bills that can still take money, oldest first (the order oldest-first allocation uses)."""
    return Bill.objects.filter(
        customer=customer, kind=Bill.Kind.BILL, status__in=OPEN_STATUSES
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
