"""Reads of the pricing what-if: re-price past months' real usage with a candidate plan.

The candidate goes through the same pure engine that bills (`price_month`), over the
same usage sums bill generation reads (`usage_summaries_by_month`), and the current
plans are re-priced by generation's own reader (`period_pricing_read`), so "current
plans" here is exactly what generation would bill for those months today.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum

from billing.bills.services import period_pricing_read, usage_summaries_by_month
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


@functools.lru_cache(maxsize=50_000)
def _price(terms: PlanTerms, usage: UsageSummary, ctx: AnnualContext | None) -> Decimal:
    return price_month(terms, usage, ctx).total


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
    """
    months = months_between(first_month, last_month)
    result = WhatIfResult(months=months)
    if not months:
        return result
    if candidate.kind == ANNUAL and candidate.contract_start is None:
        # A candidate package without a contract date starts its year with the first month.
        candidate = dataclasses.replace(candidate, contract_start=months[0])
    read_from = months[0]
    if candidate.kind == ANNUAL and candidate.contract_start <= months[0]:
        read_from = contract_month(candidate.contract_start, months[0])[0]
    _, read_to = month_bounds(months[-1])
    # All usage of the series over the range (and the candidate's contract year before it)
    # in one grouped query.
    usage = usage_summaries_by_month(
        UsageRecord.objects.filter(
            customer__in=customers_qs, series_id=series_id, shot_date__range=(read_from, read_to)
        )
    )
    by_month: dict[date, dict[tuple[int, int], UsageSummary]] = defaultdict(dict)
    shots_by_customer: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for (customer_id, sid, month), summary in usage.items():
        by_month[month][(customer_id, sid)] = summary
        shots_by_customer[customer_id].append((month, summary.shots))
    rows: dict[int, WhatIfRow] = {}
    names = dict(
        (pk, (company_id, name))
        for pk, company_id, name in customers_qs.values_list("id", "company_id", "name")
    )
    for done, month in enumerate(months, 1):
        start, end = month_bounds(month)
        period = period_pricing_read(
            customers_qs=customers_qs, start=start, end=end, usage=by_month.get(month, {})
        )
        for customer_pk, series_pairs in period.by_customer.items():
            if customer_pk not in period.customers:
                continue
            pair = next((p for sid, p in series_pairs if sid == series_id), None)
            if pair is None or not (pair.plans or pair.usage):
                continue
            row = rows.get(customer_pk)
            if row is None:
                company_id, name = names[customer_pk]
                row = rows[customer_pk] = WhatIfRow(customer_pk, company_id, name)
            priced = period.price(customer_pk)
            if priced is not None:
                row.current += sum(
                    (line.amount for sid, _, line in priced[0] if sid == series_id), ZERO
                )
            ctx = None
            try:
                if candidate.kind == ANNUAL:
                    year_start, index = contract_month(candidate.contract_start, start)
                    before = sum(
                        n
                        for m, n in shots_by_customer.get(customer_pk, ())
                        if year_start <= m < start
                    )
                    ctx = AnnualContext(month_index=index, shots_before=before)
                row.candidate += _price(candidate, pair.usage or UsageSummary(), ctx)
            except ValueError:
                row.unpriced += 1
        if progress:
            progress(done, len(months))
    for customer_id, billed in _billed(customers_qs, series_id, months).items():
        row = rows.get(customer_id)
        if row is None and customer_id in names:
            company_id, name = names[customer_id]
            row = rows[customer_id] = WhatIfRow(customer_id, company_id, name)
        if row is not None:
            row.billed = billed
    for row in rows.values():
        row.current, row.candidate = to_money(row.current), to_money(row.candidate)
    result.rows = sorted(rows.values(), key=lambda r: r.company_id)
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
