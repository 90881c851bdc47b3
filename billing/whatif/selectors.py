"""Reads of the pricing what-if: re-price past months' real usage with a candidate plan.

The candidate goes through the same pure engine that bills (`price_month`), over the
same usage sums bill generation reads (`usage_month_keys`), and the current plans
through the same engine with the same terms (`plan_terms`), or, in a month where a
plan changes, generation's own reader (`period_pricing_read`), so "current plans"
here is exactly what generation would bill for those months today.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    F,
    Q,
    QuerySet,
    Sum,
)

from billing.bills.services import (
    period_pricing_read,
    plans_overlapping_range,
    usage_month_keys,
    usage_summary_from_key,
)
from billing.models import ZERO, Bill, BillLine, PricePlan, UsageRecord
from billing.money import to_money
from billing.plans.selectors import PlanTermsMemo, plan_terms_text
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


# The key of a month without usage (usage_month_keys joins the six sums with "|").
BLANK = "0|0|0|0|0|0"


class _Summaries(dict):
    """Usage key -> UsageSummary, parsed the first time a key is asked for."""

    def __missing__(self, key: str) -> UsageSummary:
        summary = self[key] = usage_summary_from_key(key)
        return summary


def _cents(terms: PlanTerms, usage: UsageSummary, ctx: AnnualContext | None) -> int | None:
    """The engine's month total in cents; None where it cannot price (generation bills
    nothing then and reports an anomaly). Totals are sums of rounded lines, so exact."""
    try:
        total = price_month(terms, usage, ctx).total
    except ValueError:
        return None
    return int(to_money(total).scaleb(2))


class _Prices(dict):
    """Usage key -> cents of one plan's month (not annual: no contract-year context),
    priced by `price_month` the first time a key is asked for."""

    def __init__(self, terms: PlanTerms, summaries: _Summaries) -> None:
        super().__init__()
        self.terms, self.summaries = terms, summaries

    def __missing__(self, key: str) -> int | None:
        cents = self[key] = _cents(self.terms, self.summaries[key], None)
        return cents


def _plans_by_customer(*, customers_qs, series_id: int, start: date, end: date) -> dict:
    """customer pk -> [(valid_from, valid_to, terms)] of the series' plans overlapping the
    range, earliest first; terms built by plan_terms once per distinct set of terms.

    PostgreSQL hands each plan's terms over as one JSON text: 100,000 plan rows of 20
    columns through Django's converters, and a PlanTerms each, cost seconds.
    """
    rows = (
        plans_overlapping_range(customers_qs=customers_qs, start=start, end=end)
        .filter(series_id=series_id)
        .annotate(terms_text=plan_terms_text())
        .order_by(F("valid_from").asc(nulls_first=True))
        .values_list("customer_id", "valid_from", "valid_to", "terms_text")
    )
    memo = PlanTermsMemo()
    by_customer: dict[int, list] = defaultdict(list)
    for customer_id, valid_from, valid_to, text in rows.iterator(chunk_size=20_000):
        by_customer[customer_id].append((valid_from, valid_to, memo.terms(text, valid_from)))
    return by_customer


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
    the whole range, one text key per customer-month, and plans are read once. Every
    month is priced by `price_month` (what generation does for it) once per distinct
    (terms, usage) and kept in cents, so a customer whose one plan covers the range is
    a few dictionary lookups. Annual packages add their contract-year context to the
    memo key. Months where plans change mid-month go through generation's own reader
    and pricing, a month at a time, for those customers only.
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
    plans_by_customer = _plans_by_customer(
        customers_qs=customers_qs, series_id=series_id, start=range_start, end=range_end
    )
    # An annual package counts the shoots earlier in its contract year: for its customers
    # read up to 11 months before the range, so the first month's count is complete
    # (everyone's for an annual candidate; nobody else's, which would double the read).
    records = UsageRecord.objects.filter(customer__in=customers_qs, series_id=series_id)
    read_from = month_shift(range_start, -11)
    if candidate.kind == ANNUAL:
        records = records.filter(shot_date__range=(read_from, range_end))
    elif any(terms.kind == ANNUAL for ps in plans_by_customer.values() for _, _, terms in ps):
        annual_customers = (
            plans_overlapping_range(customers_qs=customers_qs, start=range_start, end=range_end)
            .filter(series_id=series_id, kind=PricePlan.Kind.ANNUAL)
            .values("customer_id")
        )
        records = records.filter(
            Q(shot_date__range=(range_start, range_end))
            | Q(shot_date__range=(read_from, range_end), customer__in=annual_customers)
        )
    else:
        records = records.filter(shot_date__range=(range_start, range_end))
    usage = usage_month_keys(records)
    pricer = _Pricer(candidate=candidate, months=months)
    totals: dict[int, list[int]] = {}  # pk -> [current cents, candidate cents, unpriced months]
    slow: dict[date, list[int]] = defaultdict(list)
    no_usage = ("", "")
    for done, customer_pk in enumerate(customers, 1):
        plans = plans_by_customer.get(customer_pk, ())
        used, keys = usage.get(customer_pk, no_usage)
        if plans or keys:
            priced = pricer.customer(plans, used, keys, slow_months=slow, customer_pk=customer_pk)
            if priced is not None:
                totals[customer_pk] = priced
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
                amount = sum((line.amount for sid, _, line in priced[0] if sid == series_id), ZERO)
                totals[customer_pk][0] += int(to_money(amount).scaleb(2))
    billed = _billed(customers_qs, series_id, months)
    for customer_id in billed:
        if customer_id in customers and customer_id not in totals:
            totals[customer_id] = [0, 0, 0]
    rows = []
    for customer_pk, (current, proposed, unpriced) in totals.items():
        company_id, name = customers[customer_pk]
        rows.append(
            WhatIfRow(
                customer_pk,
                company_id,
                name,
                billed=billed.get(customer_pk, ZERO),
                current=Decimal(current).scaleb(-2),
                candidate=Decimal(proposed).scaleb(-2),
                unpriced=unpriced,
            )
        )
    rows.sort(key=lambda r: r.company_id)
    result.rows = rows
    if progress:
        progress(len(customers), len(customers))
    return result


class _Pricer:
    """Prices one customer's months at a time against memo tables shared by all customers.

    A customer's plans are tuples (valid_from, valid_to, terms); terms objects are shared
    by every plan with the same terms, so the memo tables are keyed by their id.
    """

    def __init__(self, *, candidate: PlanTerms, months: list[date]) -> None:
        self.candidate = candidate
        self.n_months = len(months)
        self.month_ends = [(month, month_bounds(month)[1]) for month in months]
        self.range_start, self.range_end = months[0], self.month_ends[-1][1]
        self.first_month = months[0].isoformat()  # usage months arrive as ISO text
        self.summaries = _Summaries()
        self.shots: dict[str, int] = {}  # usage key -> shoots
        self.tables: dict[int, _Prices] = {}  # id(terms) -> its cents per usage key
        self.annual_memo: dict[tuple, int | None] = {}
        self.contract: dict[tuple, tuple[str, int] | None] = {}
        self.layouts: dict[tuple, list] = {}
        self.terms_alive: list[PlanTerms] = [candidate]  # keeps the ids above valid

    def table(self, terms: PlanTerms) -> _Prices:
        table = self.tables.get(id(terms))
        if table is None:
            self.terms_alive.append(terms)
            table = self.tables[id(terms)] = _Prices(terms, self.summaries)
        return table

    def customer(self, plans, used: str, keys: str, *, slow_months, customer_pk):
        """[current cents, candidate cents, unpriced months] of one customer; None when no
        month of the range had a plan in force or usage. `used` and `keys` are the
        customer's months and usage keys as usage_month_keys joins them."""
        keys = keys.split(";") if keys else []
        if (
            len(plans) == 1
            and self.candidate.kind != ANNUAL
            and plans[0][2].kind != ANNUAL
            and (plans[0][0] is None or plans[0][0] <= self.range_start)
            and (plans[0][1] is None or plans[0][1] >= self.range_end)
        ):
            # The common case: one plan in force all along, usage in some months.
            if used and used[:10] < self.first_month:  # months read for annual packages only
                keys = keys[bisect.bisect_left(used.split(";"), self.first_month) :]
            current, proposed = self.table(plans[0][2]), self.table(self.candidate)
            blanks = self.n_months - len(keys)
            try:
                return [
                    sum(map(current.__getitem__, keys)) + blanks * current[BLANK],
                    sum(map(proposed.__getitem__, keys)) + blanks * proposed[BLANK],
                    0,
                ]
            except TypeError:
                pass  # a month the engine cannot price: count it month by month below
        return self._by_month(
            plans, used.split(";") if used else [], keys, slow_months, customer_pk
        )

    def _layout(self, plans) -> list[tuple]:
        """Per month of the range: (month, its ISO text, terms of the one plan covering it
        whole or None, their prices unless annual, whether plans change inside the month,
        whether any plan is in force in it)."""
        signature = tuple((p[0], p[1], id(p[2])) for p in plans)
        layout = self.layouts.get(signature)
        if layout is None:
            layout = []
            for month, end in self.month_ends:
                in_force = [
                    p
                    for p in plans
                    if (p[0] is None or p[0] <= end) and (p[1] is None or p[1] >= month)
                ]
                whole = (
                    len(in_force) == 1
                    and (in_force[0][0] is None or in_force[0][0] <= month)
                    and (in_force[0][1] is None or in_force[0][1] >= end)
                )
                terms = in_force[0][2] if whole else None
                table = self.table(terms) if terms is not None and terms.kind != ANNUAL else None
                changes = bool(in_force) and not whole
                layout.append((month, month.isoformat(), terms, table, changes, bool(in_force)))
            self.terms_alive.extend(p[2] for p in plans)
            self.layouts[signature] = layout
        return layout

    def _by_month(self, plans, used, keys, slow_months, customer_pk) -> list[int] | None:
        by_month = dict(zip(used, keys, strict=True))
        running, before = 0, [0]  # before[i]: shoots of the months read before used[i]
        if self.candidate.kind == ANNUAL or any(p[2].kind == ANNUAL for p in plans):
            shots = self.shots
            for key in keys:
                count = shots.get(key)
                if count is None:
                    count = shots[key] = self.summaries[key].shots
                running += count
                before.append(running)
        count_before = (used, before)
        candidate = self.candidate
        proposed_table = self.table(candidate) if candidate.kind != ANNUAL else None
        current = proposed = unpriced = 0
        priced = False
        for month, month_text, terms, table, changes, in_force in self._layout(plans):
            key = by_month.get(month_text)
            if not in_force and key is None:
                continue
            key, priced = key or BLANK, True
            if table is not None:
                current += table[key] or 0
            elif terms is not None:
                current += self._annual(terms, key, month, month_text, count_before) or 0
            elif changes:
                slow_months[month].append(customer_pk)
            if proposed_table is not None:
                amount = proposed_table[key]
            else:
                amount = self._annual(candidate, key, month, month_text, count_before)
            if amount is None:
                unpriced += 1
            else:
                proposed += amount
        return [current, proposed, unpriced] if priced else None

    def _annual(self, terms: PlanTerms, key: str, month: date, month_text: str, count_before):
        """Cents of one month of an annual package, or None where the engine cannot price it."""
        contract_key = (terms.contract_start, month)
        if contract_key not in self.contract:
            try:
                year_start, index = contract_month(terms.contract_start, month)
            except (TypeError, ValueError):  # no contract date, or a month before the contract
                self.contract[contract_key] = None
            else:
                self.contract[contract_key] = (year_start.isoformat(), index)
        contract = self.contract[contract_key]
        if contract is None:
            return None  # generation bills nothing then
        year_start, index = contract
        used, before = count_before
        # Shoots earlier in the contract year: months read from year_start up to this month.
        shots_before = (
            before[bisect.bisect_left(used, month_text)]
            - before[bisect.bisect_left(used, year_start)]
        )
        memo_key = (id(terms), key, index, shots_before)
        cents = self.annual_memo.get(memo_key, _UNSET)
        if cents is _UNSET:
            self.terms_alive.append(terms)
            cents = self.annual_memo[memo_key] = _cents(
                terms,
                self.summaries[key],
                AnnualContext(month_index=index, shots_before=shots_before),
            )
        return cents


_UNSET = object()


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
