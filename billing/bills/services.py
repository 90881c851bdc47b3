"""Writes of bills: monthly generation, issue, manual lines and reversal (冲正) by credit note."""

from __future__ import annotations

import contextlib
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, NamedTuple

from auditlog.context import auditlog_value, set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import DateField, F, Max, Q, Sum
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone

from accounts.models import Job
from accounts.roles import can_manage_billing
from accounts.services import job_create, job_enqueue
from billing.audit import audit_bulk
from billing.bills.selectors import bill_number_next
from billing.close.lock import period_assert_open
from billing.models import ZERO, Bill, BillLine, PricePlan, UsageRecord
from billing.money import format_money, to_money
from billing.plans.selectors import PlanTermsMemo, plan_terms, plan_terms_text
from billing.plans.services import plans_lock_for_bills
from billing.pricing import (
    ANNUAL,
    AnnualContext,
    Breakdown,
    PlanTerms,
    UsageSummary,
    contract_month,
    price_month,
)
from billing.schedules import reminders
from customers.models import Customer, DeviceSeries
from customers.selectors import scoped_customers
from opcms.ids import ids_reserve
from opcms.months import month_bounds, month_shift
from opcms.write_behind import WriteBehind

# --- bill generation -----------------------------------------------------------------


# Priced bills handed to the writer at a time: the first chunk's pricing is the only part
# nothing overlaps, and each chunk fires the bills' and lines' statement triggers once.
WRITE_CHUNK = 10_000


class GenerationBusy(ValidationError):
    pass


@dataclass
class GenerationResult:
    bills: int
    total: Decimal
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    skipped_issued: int = 0
    bills_with_anomalies: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, for the bench

    def summary_line(self) -> str:
        # anomalies= counts bills carrying at least one anomaly (what a clerk has to open).
        return f"bills={self.bills} total={self.total:.2f} anomalies={self.bills_with_anomalies}"


# Anomaly codes; the messages are what the clerk reads on the bill page. A customer with
# no usage is not an anomaly of a bill: with no fixed fee it gets no bill at all, and the
# close page lists it as 本月无用量 until someone confirms it (billing/close/selectors.py).
NO_PLAN = "no_plan"
SPIKE = "spike"
ZERO_TOTAL = "zero_total"
PRICING = "pricing"

# The spike rule: a month worth a look has at least SPIKE_MIN_SHOTS shoots and more than
# SPIKE_FACTOR times the median of the recent months that had usage (the median ignores
# one odd month; months without usage would drag a mean towards "everything is a spike").
SPIKE_MIN_SHOTS = 30
SPIKE_FACTOR = 3
SPIKE_HISTORY_MONTHS = 6

# What each rule means, shown on the close page and the bill page.
ANOMALY_RULES = {
    NO_PLAN: (
        "某系列有用量但当天没有生效的价格方案：用量无法计价。完全没有价格方案的客户不出账单，"
        "列在关账页“缺少价格方案”中。"
    ),
    PRICING: "价格方案的条款无法计算（如缺少单价或合同开始日期），或计价时有警告。",
    SPIKE: (
        f"本月拍摄量不少于 {SPIKE_MIN_SHOTS} 次，且超过近 {SPIKE_HISTORY_MONTHS} 个月中"
        f"有用量月份拍摄量中位数的 {SPIKE_FACTOR} 倍。"
    ),
    ZERO_TOTAL: "有计费明细但合计为 0（如全额折扣抵消了费用）；单价本身为 0 的方案不算异常。",
}

GENERATION_LOCK_CLASS = 0x0B11  # advisory-lock namespace of bill generation; objid = YYYYMM


def _acquire_generation_lock(period: date) -> None:
    """Only one generation per month at a time. A second run is told so instead of waiting.

    The transaction-scoped advisory lock is released at commit or rollback.
    """
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            [GENERATION_LOCK_CLASS, period.year * 100 + period.month],
        )
        (acquired,) = cur.fetchone()
    if not acquired:
        raise GenerationBusy(f"{period:%Y-%m} 的账单正在由另一任务生成，请稍后刷新查看结果。")


class PlanRow(NamedTuple):
    """A plan as generation prices it: its id, its dates and its terms (shared by every
    plan with equal terms; 100,000 model instances would cost seconds)."""

    pk: int
    valid_from: date | None
    valid_to: date | None
    terms: PlanTerms


def _fetch(queryset, columns: str) -> list[tuple]:
    """`columns` of a queryset's rows (aliased `u`) as the driver types them, bypassing
    Django's per-row iteration and converters (tenths of a second per 100,000 rows).
    Only for columns the driver already types as Django would: ints, text, dates, numerics."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"SELECT {columns} FROM ({sql}) u", params)  # noqa: S608
        return cur.fetchall()


def _summaries_by_plan(records_qs, plans_by_pair, start, end) -> dict[tuple, UsageSummary]:
    """For pairs whose plans do not cover the whole month, price each plan's days only.

    Keyed (customer_id, series_id, plan_id); plan_id None holds usage on days no plan covers.
    """
    split = {
        pair
        for pair, plans in plans_by_pair.items()
        if len(plans) > 1
        or (plans[0].valid_from and plans[0].valid_from > start)
        or (plans[0].valid_to and plans[0].valid_to < end)
    }
    if not split:
        return {}
    customer_ids = {c for c, _ in split}
    rows = (
        records_qs.filter(customer_id__in=customer_ids)
        .order_by()
        .values("customer_id", "series_id", "shot_date")
        .annotate(**_SUMS)
    )
    buckets: dict[tuple, list] = defaultdict(list)
    for r in rows:
        pair = (r["customer_id"], r["series_id"])
        if pair not in split:
            continue
        plan_id = None
        for plan in plans_by_pair[pair]:
            if (plan.valid_from is None or plan.valid_from <= r["shot_date"]) and (
                plan.valid_to is None or r["shot_date"] <= plan.valid_to
            ):
                plan_id = plan.pk
                break
        buckets[(*pair, plan_id)].append(r)
    result = {key: _add_rows(rows) for key, rows in buckets.items()}
    for pair in split:  # plans with no usage on their days still bill fees and minimums
        for plan in plans_by_pair[pair]:
            result.setdefault((*pair, plan.pk), UsageSummary())
    return result


_SUMS = {
    "single_shots": Coalesce(Sum("shots", filter=Q(floors=1)), 0),
    "single_area": Coalesce(Sum("area", filter=Q(floors=1)), ZERO),
    "multi_shots": Coalesce(Sum("shots", filter=Q(floors__gt=1)), 0),
    "multi_floors": Coalesce(Sum(F("shots") * F("floors"), filter=Q(floors__gt=1)), 0),
    "multi_area": Coalesce(Sum("area", filter=Q(floors__gt=1)), ZERO),
    "without_area": Coalesce(Sum("shots", filter=Q(area__isnull=True)), 0),
}


def _add_rows(rows: list[dict]) -> UsageSummary:
    return UsageSummary(
        single_shots=sum(r["single_shots"] for r in rows),
        single_area=sum((Decimal(r["single_area"]) for r in rows), ZERO),
        multi_shots=sum(r["multi_shots"] for r in rows),
        multi_floors=sum(r["multi_floors"] for r in rows),
        multi_area=sum((Decimal(r["multi_area"]) for r in rows), ZERO),
        shots_without_area=sum(r["without_area"] for r in rows),
    )


def _annual_shots_before(annual_plans, annual_plans_qs, start) -> dict[int, int]:
    """Shoots earlier in each annual plan's current contract year (before this month).

    `annual_plans`: (customer_id, series_id, PlanRow) of the annual plans."""
    year_starts: dict[int, date] = {}
    for _, _, plan in annual_plans:
        contract_start = plan.terms.contract_start
        if contract_start and contract_start.replace(day=1) <= start:
            year_starts[plan.pk] = contract_month(contract_start, start)[0]
    if not year_starts:
        return {}
    earliest = min(year_starts.values())
    # Contract years start on the first of a month, so monthly sums are exact; the
    # customers come from a subquery, keeping the query size independent of their number.
    rows = (
        UsageRecord.objects.filter(
            customer_id__in=annual_plans_qs.values("customer_id"),
            shot_date__gte=earliest,
            shot_date__lt=start,
        )
        .order_by()
        .annotate(month=Cast(TruncMonth("shot_date"), output_field=DateField()))
        .values("customer_id", "series_id", "month")
        .annotate(n=Sum("shots"))
    )
    before: dict[int, int] = defaultdict(int)
    by_pair = defaultdict(list)
    for customer_id, series_id, plan in annual_plans:
        by_pair[(customer_id, series_id)].append(plan)
    for customer_id, series_id, month, n in _fetch(
        rows, "u.customer_id, u.series_id, u.month, u.n"
    ):
        for plan in by_pair[(customer_id, series_id)]:
            if plan.pk in year_starts and month >= year_starts[plan.pk]:
                before[plan.pk] += n
    return before


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def bills_generate_for_period(
    *,
    period: date,
    user: Any,
    customer_ids: list[int] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> GenerationResult:
    """Draft bills for one month for the given customers (Customer pks) or all in scope.

    Idempotent: drafts of the month are replaced, issued bills are left alone, and
    the partial unique constraint on (customer, period) makes a duplicate impossible.
    The number of queries does not depend on the number of customers: usage is
    summed in the database and bills and lines are written in bulk.
    """
    if not can_manage_billing(user):
        raise PermissionDenied("无权生成账单")
    started = time.perf_counter()
    start, end = month_bounds(period)
    period_assert_open(months=[start], what="重新生成该月的账单")
    with transaction.atomic():
        _acquire_generation_lock(start)
        customers_qs = scoped_customers(user)
        if customer_ids is not None:
            customers_qs = customers_qs.filter(pk__in=customer_ids)
        result = _generate(
            customers_qs=customers_qs, start=start, end=end, user=user, progress=progress
        )
        commit_started = time.perf_counter()
    result.phases["commit"] = time.perf_counter() - commit_started
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class PeriodPricing:
    """What the engines need to price one month for a set of customers, read once.

    Usage arrives as one key per (customer, series) (usage_month_keys's format) and plans
    with shared terms, so `price` runs the engine once per distinct (terms, usage,
    contract-year context) and the rest of the customers are dictionary lookups.
    """

    start: date
    customers: dict[int, tuple[str, str]]  # pk -> (company_id, billing_enabled)
    series_codes: dict[int, str]
    series_by_customer: dict[int, list[int]]  # ascending series ids with usage or a plan
    usage: dict[tuple[int, int], str]  # (customer, series) -> usage key
    plans: dict[tuple[int, int], list[PlanRow]]  # (customer, series) -> plans, earliest first
    split: dict[tuple, UsageSummary]
    annual_before: dict[int, int]
    month_records: Any  # the month's usage records (a queryset)
    _summaries: dict[str, UsageSummary] = field(default_factory=dict)
    _priced: dict[tuple, Breakdown | str] = field(default_factory=dict)

    def summary(self, key: str) -> UsageSummary:
        found = self._summaries.get(key)
        if found is None:
            found = self._summaries[key] = usage_summary_from_key(key) if key else UsageSummary()
        return found

    def breakdown(self, terms: PlanTerms, usage: str | UsageSummary, ctx: tuple | None):
        """The engine's Breakdown, or the message of the ValueError it raised; memoised.
        `usage` is a usage key, or a summary for a plan covering part of the month."""
        memo_key = (id(terms), usage, ctx)  # terms outlive the memo (held by self.plans)
        found = self._priced.get(memo_key)
        if found is None:
            summary = usage if isinstance(usage, UsageSummary) else self.summary(usage)
            try:
                found = price_month(terms, summary, AnnualContext(*ctx) if ctx else None)
            except ValueError as exc:
                found = str(exc)
            self._priced[memo_key] = found
        return found

    def price(self, customer_pk: int, history_months: list[int] | None = None):
        """(lines, anomalies, total) of one customer's month, or None when there is nothing
        to bill. Lines are (series_id, plan_id, line): the bill's usage lines."""
        lines: list[tuple[int, int | None, Any]] = []
        anomalies: list[dict[str, Any]] = []
        month_shots = 0
        any_plan = False
        for series_id in self.series_by_customer.get(customer_pk, ()):
            pair = (customer_pk, series_id)
            code = self.series_codes.get(series_id, "?")
            key = self.usage.get(pair, "")
            if key:
                month_shots += self.summary(key).shots
            plans = self.plans.get(pair)
            if not plans:
                anomalies.append(
                    {
                        "code": NO_PLAN,
                        "series": code,
                        "message": f"{code} 系列本月有用量 {self.summary(key).shots} 次，"
                        "但没有生效的价格方案",
                    }
                )
                continue
            any_plan = True
            # Pairs whose plans do not cover the whole month have every plan's part in `split`.
            if self.split and (customer_pk, series_id, plans[0].pk) in self.split:
                portions = [
                    (plan, self.split.get((customer_pk, series_id, plan.pk)) or UsageSummary())
                    for plan in plans
                ]
                uncovered = self.split.get((customer_pk, series_id, None))
                if uncovered and uncovered.shots:
                    anomalies.append(
                        {
                            "code": NO_PLAN,
                            "series": code,
                            "message": f"{code} 系列有 {uncovered.shots} 次拍摄不在任何方案的有效期内",
                        }
                    )
            else:
                portions = [(plans[0], key)]
            for plan, usage in portions:
                terms = plan.terms
                ctx = None
                try:
                    if terms.kind == ANNUAL:
                        if terms.contract_start is None:
                            raise ValueError("包年方案缺少合同年度开始日期")
                        _, index = contract_month(terms.contract_start, self.start)
                        ctx = (index, self.annual_before.get(plan.pk, 0))
                except ValueError as exc:
                    breakdown = str(exc)
                else:
                    breakdown = self.breakdown(terms, usage, ctx)
                if isinstance(breakdown, str):
                    anomalies.append(
                        {
                            "code": PRICING,
                            "series": code,
                            "message": f"{code} 系列无法计价：{breakdown}",
                        }
                    )
                    continue
                for warning in breakdown.warnings:
                    anomalies.append(
                        {"code": PRICING, "series": code, "message": f"{code} 系列：{warning}"}
                    )
                lines += [(series_id, plan.pk, line) for line in breakdown.lines]
        bill_total = sum((line.amount for _, _, line in lines), ZERO)
        if month_shots == 0 and bill_total == 0 and not anomalies:
            # No usage and no fixed fee: no ¥0.00 bill. The close page lists the customer as
            # 本月无用量 when billing is on, until someone confirms the month had none.
            return None
        if not lines and not any_plan:
            # Usage but no price plan at all: nothing can be billed. Not a ¥0.00 bill but the
            # close page's "price plan missing" gate, which keeps the month open until fixed.
            return None
        spike = spike_message(month_shots=month_shots, history_months=history_months or [])
        if spike:
            anomalies.append({"code": SPIKE, "series": "", "message": spike})
        # Zero because something cancelled a charge (a 100 % discount), not a plan priced at ¥0.
        if bill_total == 0 and any(line.amount for _, _, line in lines):
            anomalies.append(
                {
                    "code": ZERO_TOTAL,
                    "series": "",
                    "message": f"本月拍摄 {month_shots} 次，但账单金额为 0",
                }
            )
        return lines, anomalies, to_money(bill_total)


# The sums in a usage key, in usage_summary_from_key's order (see usage_month_keys).
_KEY_SUMS = [
    "single_shots",
    "single_area",
    "multi_shots",
    "multi_floors",
    "multi_area",
    "without_area",
]
# The key of a row `u` of _SUMS: the six sums joined with "|".
_KEY_SQL = "concat_ws('|', " + ", ".join(f'u."{name}"' for name in _KEY_SUMS) + ")"


def usage_month_keys(records_qs) -> dict[int, tuple[str, str]]:
    """Per customer: its months (ISO dates, ascending) and each month's sums as one key,
    both joined with ";" (the key joins the six sums with "|").

    The same sums as generation's monthly read (`_usage_keys`), so a month read here prices
    exactly as the bill did; `records_qs` holds one series. Built for the what-if's
    100,000 customers × 12 months: the driver hands over 100,000 pairs of strings, not
    1.2 million rows of Decimals and dates (their parsing and hashing cost tens of
    seconds; arrays parse slowly too). Equal usage gives an equal key, so a caller
    prices each distinct key once (`usage_summary_from_key`).
    """
    inner = (
        records_qs.order_by()
        # A date, not the timestamptz date_trunc returns: parsing 1.2M timestamps costs seconds.
        .annotate(month=Cast(TruncMonth("shot_date"), output_field=DateField()))
        .values("customer_id", "month")
        .annotate(**_SUMS)
    )
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT u.customer_id, "  # noqa: S608
            "string_agg(to_char(u.month, 'YYYY-MM-DD'), ';' ORDER BY u.month), "
            f"string_agg({_KEY_SQL}, ';' ORDER BY u.month) "
            f"FROM ({sql}) u GROUP BY u.customer_id",
            params,
        )
        return {customer_id: (months, keys) for customer_id, months, keys in cur.fetchall()}


def _usage_keys(records_qs) -> dict[tuple[int, int], str]:
    """(customer, series) -> the usage key of these records (usage_month_keys's format)."""
    inner = records_qs.order_by().values("customer_id", "series_id").annotate(**_SUMS)
    rows = _fetch(inner, f"u.customer_id, u.series_id, {_KEY_SQL}")
    return {(customer_id, series_id): key for customer_id, series_id, key in rows}


def usage_summary_from_key(key: str) -> UsageSummary:
    """The UsageSummary a usage_month_keys key stands for."""
    single_shots, single_area, multi_shots, multi_floors, multi_area, without = key.split("|")
    return UsageSummary(
        single_shots=int(single_shots),
        single_area=Decimal(single_area),
        multi_shots=int(multi_shots),
        multi_floors=int(multi_floors),
        multi_area=Decimal(multi_area),
        shots_without_area=int(without),
    )


def plans_overlapping_range(*, customers_qs, start: date, end: date):
    """Plans of these customers in force on at least one day from `start` to `end`."""
    return PricePlan.objects.filter(customer__in=customers_qs).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=end),
        Q(valid_to__isnull=True) | Q(valid_to__gte=start),
    )


def _earliest_first(plan: PlanRow) -> tuple:
    return (plan.valid_from is not None, plan.valid_from or date.min)


def period_pricing_read(*, customers_qs, start: date, end: date) -> PeriodPricing:
    """Read the month's customers, usage sums and plans in force (a fixed number of queries)."""
    customers = {
        pk: (company_id, billing)
        for pk, company_id, billing in _fetch(
            customers_qs.exclude(billing_enabled=Customer.BillingEnabled.NO).values(
                "id", "company_id", "billing_enabled"
            ),
            "u.id, u.company_id, u.billing_enabled",
        )
    }
    series_codes = dict(DeviceSeries.objects.values_list("id", "code"))
    # Late usage of a closed month is billed separately (adjustment lines naming its month).
    month_records = UsageRecord.objects.filter(
        customer__in=customers_qs, shot_date__range=(start, end), billed_in_period__isnull=True
    )
    usage = _usage_keys(month_records)
    plans = plans_overlapping_range(customers_qs=customers_qs, start=start, end=end)
    memo = PlanTermsMemo()
    plans_by_pair: dict[tuple[int, int], list[PlanRow]] = defaultdict(list)
    for pk, customer_id, series_id, valid_from, valid_to, text in _fetch(
        plans.annotate(terms_text=plan_terms_text()).values(
            "id", "customer_id", "series_id", "valid_from", "valid_to", "terms_text"
        ),
        "u.id, u.customer_id, u.series_id, u.valid_from, u.valid_to, u.terms_text",
    ):
        plans_by_pair[(customer_id, series_id)].append(
            PlanRow(pk, valid_from, valid_to, memo.terms(text, valid_from))
        )
    series_by_customer: dict[int, list[int]] = defaultdict(list)
    for customer_id, series_id in usage.keys() | plans_by_pair.keys():
        series_by_customer[customer_id].append(series_id)
    for series_ids in series_by_customer.values():
        if len(series_ids) > 1:
            series_ids.sort()
    for pair_plans in plans_by_pair.values():
        if len(pair_plans) > 1:
            pair_plans.sort(key=_earliest_first)
    split = _summaries_by_plan(month_records, plans_by_pair, start, end)
    annual = [
        (customer_id, series_id, plan)
        for (customer_id, series_id), pair_plans in plans_by_pair.items()
        for plan in pair_plans
        if plan.terms.kind == ANNUAL
    ]
    annual_before = _annual_shots_before(annual, plans.filter(kind=ANNUAL), start) if annual else {}
    return PeriodPricing(
        start=start,
        customers=customers,
        series_codes=series_codes,
        series_by_customer=series_by_customer,
        usage=usage,
        plans=plans_by_pair,
        split=split,
        annual_before=annual_before,
        month_records=month_records,
    )


def _generate(*, customers_qs, start, end, user, progress) -> GenerationResult:
    clock = time.perf_counter()
    phases: dict[str, float] = {}
    period = period_pricing_read(customers_qs=customers_qs, start=start, end=end)
    customers = period.customers
    # The spike rule needs the history only of customers with enough shoots this month.
    heavy = (
        period.month_records.order_by()
        .values("customer_id")
        .annotate(n=Sum("shots"))
        .filter(n__gte=SPIKE_MIN_SHOTS)
        .values("customer_id")
    )
    history: dict[int, list[int]] = defaultdict(list)
    for customer_id, shots in (
        UsageRecord.objects.filter(
            customer__in=customers_qs,
            customer_id__in=heavy,
            shot_date__gte=month_shift(start, -SPIKE_HISTORY_MONTHS),
            shot_date__lt=start,
        )
        .order_by()
        .annotate(month=TruncMonth("shot_date"))
        .values("customer_id", "month")
        .annotate(n=Sum("shots"))
        .values_list("customer_id", "n")
    ):
        history[customer_id].append(shots)
    late = _late_lines(customers_qs=customers_qs, start=start, series_codes=period.series_codes)
    acknowledged = _acknowledgements(customers_qs=customers_qs, start=start)
    issued = set(
        Bill.objects.filter(customer__in=customers_qs, period=start, kind=Bill.Kind.BILL)
        .exclude(status__in=[Bill.Status.DRAFT, Bill.Status.REVERSED])
        .values_list("customer_id", flat=True)
    )
    # Numbers already used this month (a reversed bill keeps its number, so the corrected
    # bill takes `…-2`), and the clerks' manual lines on the drafts about to be replaced.
    numbers_taken = set(
        Bill.objects.filter(customer__in=customers_qs, period=start, kind=Bill.Kind.BILL)
        .exclude(status=Bill.Status.DRAFT)
        .values_list("number", flat=True)
    )
    manual = _manual_lines(customers_qs=customers_qs, start=start)

    drafts = _DraftsReplace(customers_qs=customers_qs, start=start)
    drafts.start()
    bills: list[dict[str, Any]] = []
    all_anomalies: list[dict[str, Any]] = []
    with_anomalies = 0
    total = ZERO
    phases["read"], clock = time.perf_counter() - clock, time.perf_counter()
    candidates = [pk for pk in customers if pk not in issued]
    number_prefix = f"BILL-{start:%Y%m}-"
    no_extra = ([], [])
    written = 0  # bills[:written] are submitted to the writer
    # PostgreSQL inserts one chunk of bills and lines while the next chunk is priced.
    with WriteBehind() as writes:
        # No progress reports in the loop: the job's row is written inside this transaction,
        # so no one sees them before the commit, and each would wait for the write in flight.
        for customer_pk in candidates:
            company_id, _ = customers[customer_pk]
            priced = period.price(customer_pk, history.get(customer_pk))
            kept = manual.get(customer_pk)
            late_lines, late_anomalies = late.get(customer_pk, no_extra)
            if priced is None:
                if not kept and not late_lines and not late_anomalies:
                    continue
                priced = ([], [], ZERO)
            lines, anomalies, bill_total = priced
            if late_lines or late_anomalies:
                lines = [*lines, *late_lines]
                anomalies = [*anomalies, *late_anomalies]
                bill_total = to_money(
                    bill_total + sum((line.amount for _, _, line in late_lines), ZERO)
                )
            if kept:
                # Regeneration reprices usage but keeps the clerk's adjustments; total = sum of lines.
                lines = [*lines, *((None, None, line) for line in kept)]
                bill_total = to_money(bill_total + sum((line.amount for line in kept), ZERO))
                if bill_total != 0:
                    anomalies = [a for a in anomalies if a["code"] != ZERO_TOTAL]
            number = bill_number_next(base=f"{number_prefix}{company_id}", taken=numbers_taken)
            if anomalies:
                # An acknowledgement (reason, who, when) survives regeneration of the same finding.
                for anomaly in anomalies:
                    ack = acknowledged.get((customer_pk, anomaly["code"], anomaly["message"]))
                    if ack:
                        anomaly["ack"] = ack
                with_anomalies += 1
                for anomaly in anomalies:
                    all_anomalies.append(
                        {
                            "customer_id": customer_pk,
                            "company_id": company_id,
                            "bill": number,
                            **anomaly,
                        }
                    )
            bills.append(
                {
                    "customer_id": customer_pk,
                    "number": number,
                    "total": bill_total,
                    "lines": lines,
                    "anomalies": anomalies,
                }
            )
            total += bill_total
            if len(bills) - written == WRITE_CHUNK:
                writes.submit(drafts.chunk, bills[written:])
                written = len(bills)
        if written < len(bills):
            writes.submit(drafts.chunk, bills[written:])
        phases["price"], clock = time.perf_counter() - clock, time.perf_counter()
    drafts.finish()
    phases["write"] = time.perf_counter() - clock
    if progress:
        progress(len(candidates), len(candidates))
    audit_bulk(
        user=user,
        model=Bill,
        summary=f"生成 {start:%Y-%m} 草稿账单 {len(bills)} 张，合计 {format_money(total)}",
        changes={
            "账期": f"{start:%Y-%m}",
            "账单数": len(bills),
            "合计": str(total),
            "异常数": len(all_anomalies),
            "已出账跳过": len(issued),
        },
    )
    return GenerationResult(
        bills=len(bills),
        total=total,
        anomalies=all_anomalies,
        skipped_issued=len(issued),
        bills_with_anomalies=with_anomalies,
        phases=phases,
    )


def spike_message(*, month_shots: int, history_months: list[int]) -> str:
    """The spike anomaly's sentence, or "" (rule in ANOMALY_RULES; pure, tested on examples)."""
    if month_shots < SPIKE_MIN_SHOTS:  # most customers: no history to sort
        return ""
    usage_months = sorted(n for n in history_months if n > 0)
    if not usage_months:
        return ""
    middle = len(usage_months) // 2
    median = (
        Decimal(usage_months[middle])
        if len(usage_months) % 2
        else Decimal(usage_months[middle - 1] + usage_months[middle]) / 2
    )
    if month_shots <= SPIKE_FACTOR * median:
        return ""
    return (
        f"本月拍摄 {month_shots} 次，超过近 {SPIKE_HISTORY_MONTHS} 个月有用量月份中位数 "
        f"{median:.1f} 次的 {SPIKE_FACTOR} 倍"
    )


def _late_lines(*, customers_qs, start: date, series_codes) -> dict[int, tuple[list, list]]:
    """Adjustment lines for late usage of closed months billed in `start`, by customer.

    Each (series, original month) is priced with the plan in force in that month and
    its lines renamed "2026-10 补计用量 …". Fixed parts (annual fee, monthly minimum)
    were billed with the original month and are left out.
    """
    rows = (
        UsageRecord.objects.filter(customer__in=customers_qs, billed_in_period=start)
        .order_by()
        .annotate(month=TruncMonth("shot_date"))
        .values("customer_id", "series_id", "month")
        .annotate(**_SUMS)
    )
    result: dict[int, tuple[list, list]] = {}
    skip = {BillLine.LineType.ANNUAL_FEE, BillLine.LineType.MINIMUM}
    for r in rows:
        month = _as_date(r["month"])
        lines, anomalies = result.setdefault(r["customer_id"], ([], []))
        code = series_codes.get(r["series_id"], "?")
        usage = UsageSummary(
            single_shots=r["single_shots"],
            single_area=Decimal(r["single_area"]),
            multi_shots=r["multi_shots"],
            multi_floors=r["multi_floors"],
            multi_area=Decimal(r["multi_area"]),
            shots_without_area=r["without_area"],
        )
        plan = (
            PricePlan.objects.filter(customer_id=r["customer_id"], series_id=r["series_id"])
            .filter(
                Q(valid_from__isnull=True) | Q(valid_from__lte=month_bounds(month)[1]),
                Q(valid_to__isnull=True) | Q(valid_to__gte=month),
            )
            .order_by(F("valid_from").desc(nulls_last=True))
            .first()
        )
        label = f"{month:%Y-%m} 补计用量"
        if plan is None:
            anomalies.append(
                {
                    "code": NO_PLAN,
                    "series": code,
                    "message": f"{label}：{code} 系列 {usage.shots} 次，当月没有生效的价格方案",
                }
            )
            continue
        try:
            ctx = None
            if plan.kind == ANNUAL:
                contract_start = plan.contract_start or plan.valid_from or month
                ctx = AnnualContext(month_index=contract_month(contract_start, month)[1])
            breakdown = price_month(plan_terms(plan), usage, ctx)
        except ValueError as exc:
            anomalies.append(
                {"code": PRICING, "series": code, "message": f"{label}：{code} 系列无法计价：{exc}"}
            )
            continue
        for line in breakdown.lines:
            if line.line_type in skip:
                continue
            lines.append(
                (
                    r["series_id"],
                    plan.pk,
                    SimpleNamespace(
                        line_type=line.line_type,
                        band=line.band,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        amount=line.amount,
                        explanation=f"{label}（{code}）：{line.explanation}",
                        floor_type="",
                        reason=f"{month:%Y-%m} 已关账后收到的用量",
                    ),
                )
            )
    return result


def _acknowledgements(*, customers_qs, start: date) -> dict[tuple, dict]:
    """Acknowledgements on the month's drafts, keyed (customer, code, message).

    Only the acknowledged anomalies leave the database (not every draft's anomalies)."""
    drafts = Bill.objects.filter(
        customer__in=customers_qs, period=start, kind=Bill.Kind.BILL, status=Bill.Status.DRAFT
    ).values("customer_id", "anomalies")
    sql, params = drafts.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT d.customer_id, a->>'code', a->>'message', (a->'ack')::text "  # noqa: S608
            f"FROM ({sql}) d, jsonb_array_elements(d.anomalies) a "
            "WHERE jsonb_typeof(d.anomalies) = 'array' AND a ? 'ack'",
            params,
        )
        rows = cur.fetchall()
    found = {}
    for customer_id, code, message, ack in rows:
        ack = json.loads(ack)
        if ack:
            found[(customer_id, code, message)] = ack
    return found


def _manual_lines(*, customers_qs, start: date) -> dict[int, list[SimpleNamespace]]:
    """Manual lines (手工调整) of the month's drafts by customer, shaped like priced lines."""
    rows = (
        BillLine.objects.filter(
            bill__customer__in=customers_qs,
            bill__period=start,
            bill__kind=Bill.Kind.BILL,
            bill__status=Bill.Status.DRAFT,
            line_type=BillLine.LineType.MANUAL,
        )
        .order_by("bill_id", "position")
        .values(
            "bill__customer_id",
            "quantity",
            "unit_price",
            "amount",
            "explanation",
            "reason",
            "created_by_id",
        )
    )
    by_customer: dict[int, list[SimpleNamespace]] = defaultdict(list)
    for row in rows:
        by_customer[row.pop("bill__customer_id")].append(
            SimpleNamespace(line_type=BillLine.LineType.MANUAL, band="", floor_type="", **row)
        )
    return by_customer


class _DraftsReplace:
    """Replace the month's drafts of these customers with new ones, lines included, in bulk.

    Raw SQL (auditlog's per-row signals would make 100,000 drafts crawl; the run is
    audited as one entry instead), a number of statements that grows with the chunks,
    not with the bills. A draft that is still wanted is updated in place and only new
    bills are inserted: deleting and re-inserting 100,000 bills costs as many foreign-key
    checks again. Bills and lines go in by COPY in its text format, each distinct priced
    line formatted once (the engine's lines are shared by every bill priced alike).

    `start()` (before pricing) reads the drafts and removes their lines; `chunk()` writes a
    batch of priced bills and their lines and runs on the write-behind thread while the
    next batch is priced; `finish()` updates the kept drafts and deletes the unwanted ones.
    """

    def __init__(self, *, customers_qs, start: date) -> None:
        self.start_month = start
        self.customers_qs = customers_qs
        self.existing: dict[int, int] = {}  # customer id -> draft bill id
        self.kept: list[dict[str, Any]] = []
        self.wanted: set[int] = set()
        self.moment = timezone.now()
        self._now = self.moment.isoformat()
        self._formatted: dict[int, str] = {}  # id(line) -> its columns; lines outlive the run

    def start(self) -> None:
        sub_sql, sub_params = self.customers_qs.order_by().values("id").query.sql_with_params()
        bill_table, line_table = Bill._meta.db_table, BillLine._meta.db_table
        drafts = (
            f"SELECT id FROM {bill_table} WHERE period = %s AND kind = %s AND status = %s "  # noqa: S608
            f"AND customer_id IN ({sub_sql})"
        )
        params = [self.start_month, Bill.Kind.BILL, Bill.Status.DRAFT, *sub_params]
        with connection.cursor() as cur:
            cur.execute(f"SELECT id, customer_id FROM {bill_table} WHERE id IN ({drafts})", params)  # noqa: S608
            self.existing = {customer_id: bill_id for bill_id, customer_id in cur.fetchall()}
            if self.existing:
                cur.execute(f"DELETE FROM {line_table} WHERE bill_id IN ({drafts})", params)  # noqa: S608

    def chunk(self, cur, bills: list[dict[str, Any]]) -> None:
        """Write `bills` (fresh ones inserted, kept ones remembered) and all their lines.

        Runs on the write-behind thread: only `cur` touches the database."""
        fresh = []
        for b in bills:
            self.wanted.add(b["customer_id"])
            bill_id = self.existing.get(b["customer_id"])
            if bill_id is None:
                fresh.append(b)
            else:
                b["id"] = bill_id
                self.kept.append(b)
        if fresh:
            bill_table = Bill._meta.db_table
            for b, bill_id in zip(
                fresh, ids_reserve(cur, bill_table, "id", len(fresh)), strict=True
            ):
                b["id"] = bill_id
            # Every fresh bill is a draft of kind "bill", nothing paid yet, no reason.
            tail = f"\t{self.start_month.isoformat()}\t{Bill.Status.DRAFT.value}\t"
            kind, now = Bill.Kind.BILL.value, self._now
            with cur.copy(
                f"COPY {bill_table} (id, number, kind, customer_id, period, status, total, "  # noqa: S608
                "amount_paid, reason, anomalies, generated_at, updated_at) FROM STDIN"
            ) as copy:
                copy.write(
                    "".join(
                        f"{b['id']}\t{_copy_value(b['number'])}\t{kind}\t"
                        f"{b['customer_id']}{tail}{b['total']}\t0\t\t"
                        f"{_anomalies_text(b['anomalies'])}\t{now}\t{now}\n"
                        for b in fresh
                    )
                )
                # The server is still inserting the bills (indexes, triggers) when the
                # block is sent: the lines are formatted meanwhile, before waiting for it.
                lines = "".join(_line_rows(bills, self._formatted))
        else:
            lines = "".join(_line_rows(bills, self._formatted))
        if lines:
            with cur.copy(
                f"COPY {BillLine._meta.db_table} (bill_id, position, series_id, plan_id, "  # noqa: S608
                "line_type, band, quantity, unit_price, amount, explanation, floor_type, "
                "reason, created_by_id) FROM STDIN"
            ) as copy:
                copy.write(lines)

    def finish(self) -> None:
        bill_table = Bill._meta.db_table
        with connection.cursor() as cur:
            stale = [
                bill_id
                for customer_id, bill_id in self.existing.items()
                if customer_id not in self.wanted
            ]
            if stale:
                cur.execute(f"DELETE FROM {bill_table} WHERE id = ANY(%s)", [stale])  # noqa: S608
            if not self.kept:
                return
            cur.execute("DROP TABLE IF EXISTS opcms_bill_update")
            cur.execute(
                "CREATE TEMP TABLE opcms_bill_update (id bigint, total numeric(14, 2), "
                "anomalies jsonb) ON COMMIT DROP"
            )
            _copy(
                cur.cursor,
                "COPY opcms_bill_update (id, total, anomalies) FROM STDIN",
                (
                    f"{b['id']}\t{b['total']}\t{_anomalies_text(b['anomalies'])}\n"
                    for b in self.kept
                ),
            )
            # A temporary table has no statistics: without them the planner may join
            # 100,000 rows to 100,000 bills by nested loops (minutes instead of a second).
            cur.execute("ANALYZE opcms_bill_update")
            cur.execute(
                f"UPDATE {bill_table} AS b SET total = u.total, anomalies = u.anomalies, "  # noqa: S608
                "generated_at = %s, updated_at = %s FROM opcms_bill_update AS u WHERE b.id = u.id",
                [self.moment, self.moment],
            )


def _line_rows(bills: list[dict[str, Any]], formatted: dict[int, str]):
    """COPY text rows of the bills' lines; each distinct line object formatted once
    (`formatted`: id(line) -> its columns; every line must outlive the dict)."""
    for b in bills:
        bill_id = b["id"]
        for position, (series_id, plan_id, line) in enumerate(b["lines"], 1):
            text = formatted.get(id(line))
            if text is None:
                text = formatted[id(line)] = "\t".join(
                    _copy_value(value)
                    for value in (
                        line.line_type,
                        line.band,
                        line.quantity,
                        line.unit_price,
                        line.amount,
                        line.explanation[:500],
                        line.floor_type,
                        getattr(line, "reason", ""),
                        getattr(line, "created_by_id", None),
                    )
                )
            # Ids are ints or None (a manual line has neither series nor plan).
            yield (
                f"{bill_id}\t{position}\t{_NULL if series_id is None else series_id}\t"
                f"{_NULL if plan_id is None else plan_id}\t{text}\n"
            )


_NULL = "\\N"  # COPY's text format


def _copy_value(value: Any) -> str:
    """One value in COPY's text format (None is NULL; backslash, tab and newlines escaped)."""
    if value is None:
        return _NULL
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _anomalies_text(anomalies: list[dict[str, Any]]) -> str:
    return _copy_value(json.dumps(anomalies, ensure_ascii=False)) if anomalies else "[]"


def _copy(raw_cursor, statement: str, rows) -> None:
    """COPY text rows, sent in blocks (one write per row costs more than the formatting)."""
    with raw_cursor.copy(statement) as copy:
        for block in _blocks(rows):
            copy.write(block)


def _blocks(rows, size: int = 10_000):
    """Text rows joined by `size` (one write per row costs more than the formatting)."""
    block: list[str] = []
    for row in rows:
        block.append(row)
        if len(block) == size:
            yield "".join(block)
            block.clear()
    if block:
        yield "".join(block)


def bills_generate_job_start(
    *, period: date, user: Any, customer_ids: list[int] | None = None
) -> Job:
    """Queue batch generation as a background job with progress; returns the job."""
    if not can_manage_billing(user):
        raise PermissionDenied("无权生成账单")
    from billing.tasks import bills_generate_task  # tasks import services; avoid the cycle at load

    start = period.replace(day=1)
    job = job_create(
        kind="bills_generate",
        created_by=user,
        title=f"生成 {start:%Y-%m} 账单",
        params={
            "period": start.isoformat(),
            "customer_ids": customer_ids,
            "next_url": reverse("billing:bill-list") + f"?period={start:%Y-%m}",
        },
    )
    job_enqueue(job=job, task=bills_generate_task)
    return job


def bills_generate_job_work(job: Job, progress) -> dict[str, Any]:
    result = bills_generate_for_period(
        period=date.fromisoformat(job.params["period"]),
        user=job.created_by,
        customer_ids=job.params.get("customer_ids"),
        progress=progress,
    )
    if result.anomalies:
        # Send the clerk from the finished job straight to the bills that need a look.
        params = {**job.params, "next_url": job.params["next_url"] + "&anomalies=on"}
        Job.objects.filter(pk=job.pk).update(params=params)
    return {
        "账单": result.bills,
        "合计": format_money(result.total),
        "异常": len(result.anomalies),
        "已出账跳过": result.skipped_issued,
    }


DEFAULT_PAYMENT_TERMS_DAYS = 30


@contextlib.contextmanager
def _audited(user: Any):
    """Attribute audit entries to `user`, then restore whatever actor context was there.

    auditlog's set_actor leaves its value behind on exit; restoring keeps the
    request middleware's context intact when a view calls a service.
    """
    previous = auditlog_value.get(None)
    try:
        with set_actor(user):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


def _bill_status_for(bill: Bill) -> str:
    """issued ↔ partially_paid ↔ paid follows amount_paid; the status is never set by hand."""
    if bill.amount_paid <= 0:
        return Bill.Status.ISSUED
    if bill.amount_paid < bill.total:
        return Bill.Status.PARTIALLY_PAID
    return Bill.Status.PAID


def bill_add_manual_line(
    *, user: Any, bill: Bill, amount: Decimal, explanation: str, reason: str
) -> BillLine:
    """Add a manual adjustment (手工调整) to a draft bill; the reason is kept on the line and audited."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写调整原因"})
    with transaction.atomic(), _audited(user):
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        period_assert_open(months=[bill.period], what="给该月的账单添加调整")
        if bill.status != Bill.Status.DRAFT or bill.kind != Bill.Kind.BILL:
            raise ValidationError(f"账单 {bill.number} 已出账，不能修改；如需更正请冲正后重新出账")
        amount = to_money(amount)
        if amount == 0:
            raise ValidationError({"amount": "调整金额不能为 0"})
        new_total = to_money(
            sum((to_money(a) for a in bill.lines.values_list("amount", flat=True)), ZERO) + amount
        )
        if new_total < 0:
            raise ValidationError(
                {"amount": f"调整后账单金额为 {format_money(new_total)}，不能为负数"}
            )
        position = (bill.lines.aggregate(m=Max("position"))["m"] or 0) + 1
        line = BillLine.objects.create(
            bill=bill,
            position=position,
            line_type=BillLine.LineType.MANUAL,
            quantity=Decimal("1"),
            unit_price=amount,
            amount=amount,
            explanation=(explanation or "").strip() or f"手工调整 {format_money(amount)}",
            reason=reason,
            created_by=user,
        )
        bill.total = new_total
        bill.save(update_fields=["total", "updated_at"])
    return line


def bill_issue(*, user: Any, bill: Bill, due_date: date | None = None) -> Bill:
    """Issue a draft bill: fix its total from its lines, set the due date and freeze it.

    The due date defaults to the customer's payment terms (账期) counted from the
    issue day, 30 days when the customer has none.
    """
    with transaction.atomic(), _audited(user):
        bill = Bill.objects.select_for_update().select_related("customer").get(pk=bill.pk)
        if bill.kind != Bill.Kind.BILL:
            raise ValidationError("冲正单在冲正时已出账")
        if bill.status != Bill.Status.DRAFT:
            raise ValidationError(
                f"账单 {bill.number} 已是“{bill.get_status_display()}”，不能重复出账"
            )
        period_assert_open(months=[bill.period], what="出账该月的账单")
        amounts = list(bill.lines.values_list("amount", flat=True))
        total = to_money(sum((to_money(a) for a in amounts), ZERO)) if amounts else bill.total
        if total < 0:
            raise ValidationError(
                f"账单 {bill.number} 金额为负（{format_money(total)}），请检查明细"
            )
        today = timezone.localdate()
        terms = bill.customer.payment_terms_days
        if terms is None:
            terms = DEFAULT_PAYMENT_TERMS_DAYS
        bill.total = total
        bill.due_date = due_date or today + timedelta(days=terms)
        bill.issued_at = timezone.now()
        bill.issued_by = user
        # A zero bill (e.g. fully discounted) owes nothing: it is settled the moment it is issued.
        bill.status = Bill.Status.ISSUED if total > 0 else Bill.Status.PAID
        bill.save(
            update_fields=["total", "due_date", "issued_at", "issued_by", "status", "updated_at"]
        )
        # The plans that priced an issued bill are never edited again; changes need a version.
        plans_lock_for_bills(bills=[bill])
        reminders.bill_issued_emit(bill=bill)
    return bill


def bills_issue_for_period(*, user: Any, period: date, customers=None) -> list[Bill]:
    """Issue every draft bill of a month (optionally only for `customers`, e.g. a user's scope).

    All or nothing: one bill that cannot be issued stops the batch with its number.
    """
    qs = Bill.objects.filter(kind=Bill.Kind.BILL, status=Bill.Status.DRAFT, period=period)
    if customers is not None:
        qs = qs.filter(customer__in=customers)
    issued = []
    with transaction.atomic():
        for bill in qs.order_by("customer__company_id"):
            issued.append(bill_issue(user=user, bill=bill))
    return issued


def _next_credit_note_number(bill: Bill) -> str:
    prefix = f"CN-{bill.period:%Y%m}-{bill.customer.company_id}-"
    existing = Bill.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    used = [int(n.rsplit("-", 1)[1]) for n in existing if n.rsplit("-", 1)[1].isdigit()]
    return f"{prefix}{max(used, default=0) + 1}"


def bill_reverse(*, user: Any, bill: Bill, reason: str) -> Bill:
    """Cancel an issued bill with a credit note (冲正单) for −total; returns the credit note.

    Allocations must be undone first so the money goes back to the payment as
    credit rather than vanishing. The original becomes `reversed`, which frees
    its (customer, period) slot for a corrected bill.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写冲正原因"})
    with transaction.atomic(), _audited(user):
        bill = Bill.objects.select_for_update().select_related("customer").get(pk=bill.pk)
        if bill.kind != Bill.Kind.BILL:
            raise ValidationError("冲正单不能再冲正")
        if bill.status == Bill.Status.DRAFT:
            raise ValidationError(f"账单 {bill.number} 还是草稿，直接修改或重新生成即可，无需冲正")
        if bill.status == Bill.Status.REVERSED:
            raise ValidationError(f"账单 {bill.number} 已冲正")
        active = bill.allocations.filter(undone_at__isnull=True).count()
        if active:
            raise ValidationError(
                f"账单 {bill.number} 还有 {active} 笔核销记录，请先撤销这些核销，再冲正"
            )
        now = timezone.now()
        note = Bill.objects.create(
            number=_next_credit_note_number(bill),
            kind=Bill.Kind.CREDIT_NOTE,
            customer=bill.customer,
            period=bill.period,
            status=Bill.Status.DRAFT,
            total=-bill.total,
            reverses=bill,
            reason=reason,
        )
        BillLine.objects.create(
            bill=note,
            position=1,
            line_type=BillLine.LineType.CREDIT,
            quantity=Decimal("1"),
            unit_price=-bill.total,
            amount=-bill.total,
            explanation=f"冲正账单 {bill.number}：{format_money(-bill.total)}",
            reason=reason,
            created_by=user,
        )
        # Lines are written while the note is a draft; issuing it freezes it like any bill.
        note.status = Bill.Status.ISSUED
        note.issued_at = now
        note.issued_by = user
        note.due_date = bill.due_date
        note.save(update_fields=["status", "issued_at", "issued_by", "due_date", "updated_at"])
        bill.status = Bill.Status.REVERSED
        bill.save(update_fields=["status", "updated_at"])
    return note
