"""Reads of the pricing what-if: re-price past months' real usage with a candidate plan.

The candidate goes through the same pure engine that bills (`price_month`), over the
same usage sums bill generation reads (`usage_summaries_by_month`), and the current
plans are re-priced by generation's own reader (`period_pricing_read`), so "current
plans" here is exactly what generation would bill for those months today.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum

from billing.bills.services import (
    period_pricing_read,
    plan_rows,
    plans_overlapping_range,
    terms_cached,
    usage_summaries_by_month,
)
from billing.models import ZERO, Bill, BillLine, UsageRecord
from billing.money import to_money
from billing.pricing import (
    ANNUAL,
    AnnualContext,
    PlanTerms,
    UsageSummary,
    contract_month,
    price_month,
)
from customers.exports import customer_filter_apply
from customers.models import Customer
from customers.selectors import scoped_customers
from opcms.months import month_bounds, month_shift

# Buckets of the change in % drawn by the distribution chart (lower bound inclusive).
BUCKETS = (-50, -20, -10, -5, 0, 5, 10, 20, 50)


@dataclass
class WhatIfRow:
    customer_id: int
    company_id: int
    name: str
    billed: Decimal = ZERO  # issued bills' lines of the series in those months
    current: Decimal = ZERO  # the current plans re-priced by generation's path
    candidate: Decimal = ZERO
    unpriced: int = 0  # months the candidate could not price (e.g. before its contract start)

    @property
    def difference(self) -> Decimal:
        return self.candidate - self.current

    @property
    def change_pct(self) -> Decimal | None:
        """Change against the current plans, in %; None when the current revenue is 0."""
        if not self.current:
            return None
        return (self.difference * 100 / self.current).quantize(Decimal("0.01"))

    def as_dict(self) -> dict:
        return {
            "customer_id": self.customer_id,
            "company_id": self.company_id,
            "name": self.name,
            "billed": self.billed,
            "current": self.current,
            "candidate": self.candidate,
            "difference": self.difference,
            "change_pct": self.change_pct,
            "unpriced": self.unpriced,
        }


@dataclass
class WhatIfResult:
    months: list[date]
    rows: list[WhatIfRow] = field(default_factory=list)

    @property
    def billed(self) -> Decimal:
        return sum((r.billed for r in self.rows), ZERO)

    @property
    def current(self) -> Decimal:
        return sum((r.current for r in self.rows), ZERO)

    @property
    def candidate(self) -> Decimal:
        return sum((r.candidate for r in self.rows), ZERO)

    @property
    def difference(self) -> Decimal:
        return self.candidate - self.current

    @property
    def change_pct(self) -> Decimal | None:
        if not self.current:
            return None
        return (self.difference * 100 / self.current).quantize(Decimal("0.01"))

    def above(self, pct: Decimal) -> list[WhatIfRow]:
        """Customers whose revenue would rise by more than `pct` % (new revenue counts too)."""
        return [
            r
            for r in self.rows
            if (r.change_pct is not None and r.change_pct > pct)
            or (r.change_pct is None and r.candidate > 0)
        ]

    def distribution(self) -> list[dict]:
        """Customer counts per change-in-% bucket, for the chart (new revenue in its own bar)."""
        labels = [f"< {BUCKETS[0]}%"]
        labels += [f"{lo}% ~ {hi}%" for lo, hi in zip(BUCKETS, BUCKETS[1:], strict=False)]
        labels += [f"≥ {BUCKETS[-1]}%", "新增收入"]
        counts = [0] * len(labels)
        for r in self.rows:
            pct = r.change_pct
            if pct is None:
                if r.candidate > 0:
                    counts[-1] += 1
                continue
            index = sum(1 for bound in BUCKETS if pct >= bound)
            counts[index] += 1
        return [{"label": lab, "count": n} for lab, n in zip(labels, counts, strict=True)]


def months_between(first: date, last: date) -> list[date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = month_shift(day, 1)
    return months


def _covers(plan, start: date, end: date) -> bool:
    return (plan.valid_from is None or plan.valid_from <= start) and (
        plan.valid_to is None or plan.valid_to >= end
    )


def whatif_compute(
    *,
    customers_qs: QuerySet[Customer],
    series_id: int,
    candidate: PlanTerms,
    first_month: date,
    last_month: date,
    progress: Callable[[int, int | None], None] | None = None,
) -> WhatIfResult:
    """Per customer: billed, current plans re-priced, and the candidate, over the months.

    The candidate replaces each customer's plan of `series_id` for whole months. It
    prices a customer-month where the customer had a plan of the series in force or
    usage of it (a candidate annual fee is not charged to customers who never had
    the series). Customers excluded from billing (是否结算 = 否) are left out, as
    generation leaves them out.

    Speed (100,000 customers × 12 months in seconds): usage is summed in SQL once for
    the whole range and plans are read once; a month one plan covers whole is priced
    by `price_month` directly (what generation does for it), memoised on (terms, usage,
    contract month). Months where plans change mid-month or no plan is in force go
    through generation's own reader and pricing, a month at a time, for those
    customers only.
    """
    months = months_between(first_month, last_month)
    result = WhatIfResult(months=months)
    if not months:
        return result
    if candidate.kind == ANNUAL and candidate.contract_start is None:
        # A candidate package without a contract date starts its year with the first month.
        candidate = dataclasses.replace(candidate, contract_start=months[0])
    range_start, range_end = months[0], month_bounds(months[-1])[1]
    customers = {
        pk: (company_id, name)
        for pk, company_id, name in customers_qs.exclude(
            billing_enabled=Customer.BillingEnabled.NO
        ).values_list("id", "company_id", "name")
    }
    plans_by_customer: dict[int, list] = defaultdict(list)
    for plan in plan_rows(
        plans_overlapping_range(customers_qs=customers_qs, start=range_start, end=range_end).filter(
            series_id=series_id
        )
    ):
        plans_by_customer[plan.customer_id].append(plan)
    annual = candidate.kind == ANNUAL or any(
        p.kind == ANNUAL for ps in plans_by_customer.values() for p in ps
    )
    # An annual package counts the shoots earlier in its contract year: read up to 11
    # months before the range so the first month's count is complete.
    read_from = month_shift(range_start, -11) if annual else range_start
    usage = usage_summaries_by_month(
        UsageRecord.objects.filter(
            customer__in=customers_qs,
            series_id=series_id,
            shot_date__range=(read_from, range_end),
        )
    )
    by_customer: dict[int, dict[date, UsageSummary]] = defaultdict(dict)
    for (customer_id, _, month), summary in usage.items():
        by_customer[customer_id][month] = summary

    memo: dict[tuple, Decimal | None] = {}
    terms_by_plan: dict[int, PlanTerms] = {}

    def price(terms: PlanTerms, summary: UsageSummary, ctx: AnnualContext | None):
        # Plain tuples hash and compare faster than the frozen dataclasses they mirror.
        key = (
            id(terms),
            summary.single_shots,
            summary.single_area,
            summary.multi_shots,
            summary.multi_floors,
            summary.multi_area,
            summary.shots_without_area,
            ctx.month_index if ctx else 0,
            ctx.shots_before if ctx else 0,
        )
        if key not in memo:
            try:
                memo[key] = price_month(terms, summary, ctx).total
            except ValueError:
                memo[key] = None  # generation reports it as an anomaly and bills nothing
        return memo[key]

    def context(terms: PlanTerms, month: date, shots: dict[date, UsageSummary]):
        if terms.kind != ANNUAL:
            return None
        year_start, index = contract_month(terms.contract_start, month)
        before = sum(u.shots for m, u in shots.items() if year_start <= m < month)
        return AnnualContext(month_index=index, shots_before=before)

    rows: dict[int, WhatIfRow] = {}
    slow: dict[date, list[int]] = defaultdict(list)
    month_ends = [(month, month_bounds(month)[1]) for month in months]
    blank = UsageSummary()
    for done, (customer_pk, (company_id, name)) in enumerate(customers.items(), 1):
        plans = plans_by_customer.get(customer_pk, [])
        shots = by_customer.get(customer_pk, {})
        row = None
        for month, end in month_ends:
            in_force = [
                p
                for p in plans
                if (p.valid_from is None or p.valid_from <= end)
                and (p.valid_to is None or p.valid_to >= month)
            ]
            summary = shots.get(month)
            if not in_force and summary is None:
                continue
            if row is None:
                row = rows[customer_pk] = WhatIfRow(customer_pk, company_id, name)
            if len(in_force) == 1 and _covers(in_force[0], month, end):
                plan = in_force[0]
                terms = terms_by_plan.get(plan.pk)
                if terms is None:
                    terms = terms_by_plan[plan.pk] = terms_cached(plan)
                try:
                    amount = price(terms, summary or blank, context(terms, month, shots))
                except ValueError:
                    amount = None
                row.current += amount or ZERO
            else:
                slow[month].append(customer_pk)
            try:
                amount = price(candidate, summary or blank, context(candidate, month, shots))
            except ValueError:
                amount = None
            if amount is None:
                row.unpriced += 1
            else:
                row.candidate += amount
        if progress and done % 5000 == 0:
            progress(done, len(customers))
    for month, customer_ids in slow.items():
        period = period_pricing_read(
            customers_qs=customers_qs.filter(pk__in=customer_ids),
            start=month,
            end=month_bounds(month)[1],
        )
        for customer_pk in customer_ids:
            priced = period.price(customer_pk)
            if priced is not None:
                rows[customer_pk].current += sum(
                    (line.amount for sid, _, line in priced[0] if sid == series_id), ZERO
                )
    for customer_id, billed in _billed(customers_qs, series_id, months).items():
        row = rows.get(customer_id)
        if row is None and customer_id in customers:
            company_id, name = customers[customer_id]
            row = rows[customer_id] = WhatIfRow(customer_id, company_id, name)
        if row is not None:
            row.billed = billed
    for row in rows.values():
        row.current, row.candidate = to_money(row.current), to_money(row.candidate)
    result.rows = sorted(rows.values(), key=lambda r: r.company_id)
    if progress:
        progress(len(customers), len(customers))
    return result


def _billed(customers_qs, series_id: int, months: list[date]) -> dict[int, Decimal]:
    """What the issued bills charged for the series in those months (manual lines aside)."""
    return dict(
        BillLine.objects.filter(
            bill__customer__in=customers_qs,
            bill__kind=Bill.Kind.BILL,
            bill__period__in=months,
            series_id=series_id,
        )
        .exclude(bill__status__in=[Bill.Status.DRAFT, Bill.Status.REVERSED])
        .exclude(line_type=BillLine.LineType.MANUAL)
        .order_by()
        .values("bill__customer_id")
        .annotate(total=Sum("amount"))
        .values_list("bill__customer_id", "total")
    )


def whatif_customers(*, user, query: str = "", ids: list[int] | None = None) -> QuerySet[Customer]:
    """The chosen customers: the selected ids, else the customer list's filter, within scope."""
    queryset = scoped_customers(user)
    if ids:
        return queryset.filter(pk__in=ids)
    return customer_filter_apply(queryset, query or "")
