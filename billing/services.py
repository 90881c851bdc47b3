"""Writes for billing: price plan versions (never overlapping) and monthly bill generation."""

from __future__ import annotations

import functools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone

from accounts.models import Job
from accounts.roles import can_manage_billing, can_manage_plans
from accounts.services import job_create, job_enqueue
from customers.models import Customer
from customers.selectors import scoped_customers

from .models import Bill, BillLine, DeviceSeries, PricePlan, UsageRecord
from .money import format_money, to_money
from .pricing import (
    ANNUAL,
    PER_SHOOT,
    TIERED,
    AnnualContext,
    PlanTerms,
    UsageSummary,
    contract_month,
    price_month,
    validate_bands,
)
from .selectors import (
    bands_from_json,
    bill_number_next,
    day_before,
    month_bounds,
    month_shift,
    plan_is_locked,
    plan_terms,
)

ZERO = Decimal("0.00")

# --- audit for bulk writes (django-auditlog does not see bulk_create or raw SQL) -------


def audit_bulk(*, user: Any, model: type, summary: str, changes: dict[str, Any]) -> None:
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk="",
        object_repr=summary[:200],
        action=LogEntry.Action.CREATE,
        # auditlog's shape: field → [before, after]; a bulk write has no "before".
        # (Chinese labels, not model field names: auditlog would try to parse them as fields.)
        changes={label: ["", str(value)] for label, value in changes.items()},
        actor=user if getattr(user, "is_authenticated", False) else None,
    )


# --- price plans ---------------------------------------------------------------------

PLAN_FIELDS = [*PricePlan.TERMS_FIELDS, "source", "raw_single", "raw_multi"]
# The amount terms (prices, fees, discount value): the decimal fields among the terms.
MONEY_TERMS = tuple(
    f.name
    for f in PricePlan._meta.concrete_fields
    if f.name in PricePlan.TERMS_FIELDS and isinstance(f, models.DecimalField)
)


def _plan_errors(plan: PricePlan) -> dict[str, str]:
    errors: dict[str, str] = {}
    if plan.kind == PER_SHOOT:
        if plan.per_area:
            if plan.area_price is None:
                errors["area_price"] = "按面积计价需要填写每平方米单价"
        elif plan.single_price is None:
            errors["single_price"] = "请填写单层单价"
        if plan.multi_rule == PricePlan.MultiRule.INCREMENTAL:
            if plan.multi_base is None:
                errors["multi_base"] = "逐层递增需要填写多层首层价"
            if plan.multi_step is None:
                errors["multi_step"] = "逐层递增需要填写每增一层的价格"
    elif plan.kind == TIERED:
        groups = (
            [("bands_shared", "共用阶梯")]
            if plan.bands_shared
            else [("bands_single", "单层阶梯"), ("bands_multi", "多层阶梯")]
        )
        for name, label in groups:
            try:
                validate_bands(bands_from_json(getattr(plan, name)))
            except (ValueError, TypeError, ArithmeticError) as exc:
                errors[name] = f"{label}：{exc}"
    elif plan.kind == ANNUAL:
        if plan.annual_fee is None:
            errors["annual_fee"] = "请填写年费"
        if not (plan.contract_start or plan.valid_from):
            errors["contract_start"] = "请填写合同年度开始日期（或方案生效日期）"
        if plan.annual_quota is not None and plan.overage_price is None:
            errors["overage_price"] = "限量套餐需要填写超量单价"
    for name in MONEY_TERMS:
        value = getattr(plan, name)
        if value is not None and value < 0:
            errors[name] = "金额不能为负"
    if plan.discount_kind and plan.discount_value is None:
        errors["discount_value"] = "请填写折扣值"
    if plan.discount_kind == PricePlan.DiscountKind.PERCENT and (plan.discount_value or 0) > 100:
        errors["discount_value"] = "折扣百分比不能超过 100"
    if plan.discount_kind and not plan.discount_reason:
        errors["discount_reason"] = "请填写折扣原因"
    if plan.valid_from and plan.valid_to and plan.valid_to < plan.valid_from:
        errors["valid_to"] = "截止日期不能早于生效日期"
    return errors


def plans_overlapping(
    *, customer_id: int, series_id: int, valid_from: date | None, valid_to: date | None
):
    """Plans of the same customer and series whose date range shares a day with the given one."""
    qs = PricePlan.objects.filter(customer_id=customer_id, series_id=series_id)
    if valid_to is not None:
        qs = qs.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=valid_to))
    if valid_from is not None:
        qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    return qs


def _plan_check(plan: PricePlan, *, exclude: list[int] | None = None) -> None:
    errors = _plan_errors(plan)
    if errors:
        raise ValidationError(errors)
    clash = (
        plans_overlapping(
            customer_id=plan.customer_id,
            series_id=plan.series_id,
            valid_from=plan.valid_from,
            valid_to=plan.valid_to,
        )
        .exclude(pk__in=[p for p in [plan.pk, *(exclude or [])] if p])
        .first()
    )
    if clash is not None:
        span = f"{clash.valid_from or '不限'} 至 {clash.valid_to or '不限'}"
        raise ValidationError(
            {
                "valid_from": f"与 {clash.series.code} 系列的第 {clash.version} 版方案（{span}）"
                f"日期重叠：同一客户同一系列同一天只能有一个方案生效"
            }
        )


def _lock_customer(customer: Customer) -> None:
    # Serialises plan writes per customer so two clerks cannot create overlapping plans at once.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()


def _next_version(customer_id: int, series_id: int) -> int:
    last = (
        PricePlan.objects.filter(customer_id=customer_id, series_id=series_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return (last or 0) + 1


def _check_plan_permission(user: Any) -> None:
    if user is not None and not can_manage_plans(user):
        raise PermissionDenied("无权维护价格方案")


@transaction.atomic
def plan_create(
    *, user: Any, customer: Customer, series: DeviceSeries, data: dict[str, Any]
) -> PricePlan:
    _check_plan_permission(user)
    _lock_customer(customer)
    plan = PricePlan(customer=customer, series=series, created_by=user if user else None)
    for name, value in data.items():
        if name in PLAN_FIELDS:
            setattr(plan, name, value)
    plan.version = _next_version(customer.pk, series.pk)
    _plan_check(plan)
    plan.save()
    return plan


@transaction.atomic
def plan_update(*, user: Any, plan: PricePlan, data: dict[str, Any]) -> PricePlan:
    """Edit a plan that has not priced an issued bill; a locked plan needs a new version."""
    _check_plan_permission(user)
    _lock_customer(plan.customer)
    if plan_is_locked(plan):
        raise ValidationError("该方案已用于已出账账单，不能修改；请新建版本并指定生效日期。")
    for name, value in data.items():
        if name in PLAN_FIELDS:
            setattr(plan, name, value)
    _plan_check(plan)
    plan.save()
    return plan


@transaction.atomic
def plan_new_version(
    *, user: Any, plan: PricePlan, valid_from: date, data: dict[str, Any]
) -> PricePlan:
    """A new version from `valid_from`; the old one ends the day before and is kept as it was."""
    _check_plan_permission(user)
    _lock_customer(plan.customer)
    plan.refresh_from_db()
    if plan.valid_from and valid_from <= plan.valid_from:
        raise ValidationError({"valid_from": f"新版本的生效日期必须晚于 {plan.valid_from}"})
    if plan.valid_to and valid_from > plan.valid_to:
        raise ValidationError({"valid_from": f"原方案已于 {plan.valid_to} 截止，请直接新建方案"})
    last_priced = (
        Bill.objects.filter(lines__plan=plan)
        .exclude(status=Bill.Status.DRAFT)
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    if last_priced and valid_from <= month_bounds(last_priced)[1]:
        raise ValidationError(
            {"valid_from": f"{last_priced:%Y-%m} 的账单已按原方案出账，新版本最早从下个月生效"}
        )
    new = PricePlan(customer=plan.customer, series=plan.series, created_by=user, supersedes=plan)
    for name in PLAN_FIELDS:
        setattr(new, name, data.get(name, getattr(plan, name)))
    new.valid_from = valid_from
    new.source = PricePlan.Source.MANUAL
    new.version = _next_version(plan.customer_id, plan.series_id)
    _plan_check(new, exclude=[plan.pk])
    plan.valid_to = day_before(valid_from)
    plan.save(update_fields=["valid_to"])
    new.save()
    return new


def plans_lock_for_bills(*, bills: list[Bill]) -> int:
    """Mark the plans that priced these bills as locked (called when bills are issued)."""
    return PricePlan.objects.filter(billline__bill__in=bills, is_locked=False).update(
        is_locked=True
    )


# --- bill generation -----------------------------------------------------------------


class GenerationBusy(ValidationError):
    pass


@dataclass
class GenerationResult:
    bills: int
    total: Decimal
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    skipped_issued: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, for the bench

    def summary_line(self) -> str:
        return f"bills={self.bills} total={self.total:.2f} anomalies={len(self.anomalies)}"


# Anomaly codes; the messages are what the clerk reads on the bill page.
NO_USAGE = "no_usage"
NO_PLAN = "no_plan"
SPIKE = "spike"
ZERO_TOTAL = "zero_total"
PRICING = "pricing"

GENERATION_LOCK_CLASS = 0x0B11  # advisory-lock namespace of bill generation; objid = YYYYMM


def _acquire_generation_lock(period: date) -> None:
    """Only one generation per month at a time. A second run is told so instead of waiting.

    The transaction-scoped advisory lock is released at commit or rollback. SQLite
    (tests, development) serialises writers anyway.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            [GENERATION_LOCK_CLASS, period.year * 100 + period.month],
        )
        (acquired,) = cur.fetchone()
    if not acquired:
        raise GenerationBusy(f"{period:%Y-%m} 的账单正在由另一任务生成，请稍后刷新查看结果。")


@dataclass
class _Pair:
    usage: UsageSummary | None = None
    plans: list[PricePlan] = field(default_factory=list)


def _usage_summaries(records_qs) -> dict[tuple[int, int], UsageSummary]:
    """One grouped query: every engine needs only these sums per customer and series."""
    rows = records_qs.order_by().values("customer_id", "series_id").annotate(**_SUMS)
    return {
        (r["customer_id"], r["series_id"]): UsageSummary(
            single_shots=r["single_shots"],
            single_area=Decimal(r["single_area"]),
            multi_shots=r["multi_shots"],
            multi_floors=r["multi_floors"],
            multi_area=Decimal(r["multi_area"]),
            shots_without_area=r["without_area"],
        )
        for r in rows
    }


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
    """Shoots earlier in each annual plan's current contract year (before this month)."""
    year_starts: dict[int, date] = {}
    for plan in annual_plans:
        contract_start = plan.contract_start or plan.valid_from
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
        .annotate(month=TruncMonth("shot_date"))
        .values("customer_id", "series_id", "month")
        .annotate(n=Sum("shots"))
    )
    before: dict[int, int] = defaultdict(int)
    by_pair = defaultdict(list)
    for plan in annual_plans:
        by_pair[(plan.customer_id, plan.series_id)].append(plan)
    for r in rows:
        for plan in by_pair[(r["customer_id"], r["series_id"])]:
            if plan.pk in year_starts and _as_date(r["month"]) >= year_starts[plan.pk]:
                before[plan.pk] += r["n"]
    return before


_PLAN_COLUMNS = ["id", "customer_id", "series_id", "version", *PLAN_FIELDS]


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


def _generate(*, customers_qs, start, end, user, progress) -> GenerationResult:
    clock = time.perf_counter()
    phases: dict[str, float] = {}
    customers = {
        pk: (company_id, billing)
        for pk, company_id, billing in customers_qs.exclude(
            billing_enabled=Customer.BillingEnabled.NO
        ).values_list("id", "company_id", "billing_enabled")
    }
    series_codes = dict(DeviceSeries.objects.values_list("id", "code"))
    month_records = UsageRecord.objects.filter(
        customer__in=customers_qs, shot_date__range=(start, end)
    )
    pairs: dict[tuple[int, int], _Pair] = defaultdict(_Pair)
    for key, summary in _usage_summaries(month_records).items():
        pairs[key].usage = summary
    plans = PricePlan.objects.filter(customer__in=customers_qs).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=end),
        Q(valid_to__isnull=True) | Q(valid_to__gte=start),
    )
    plans_by_pair: dict[tuple[int, int], list[PricePlan]] = defaultdict(list)
    # Plain rows, not model instances: building 100,000 PricePlan objects costs seconds.
    plan_rows = plans.order_by(F("valid_from").asc(nulls_first=True)).values(*_PLAN_COLUMNS)
    for row in plan_rows:
        plan = SimpleNamespace(pk=row["id"], **row)
        plans_by_pair[(plan.customer_id, plan.series_id)].append(plan)
        pairs[(plan.customer_id, plan.series_id)].plans.append(plan)
    split = _summaries_by_plan(month_records, plans_by_pair, start, end)
    annual_plans = [p for ps in plans_by_pair.values() for p in ps if p.kind == ANNUAL]
    annual_before = (
        _annual_shots_before(annual_plans, plans.filter(kind=ANNUAL), start) if annual_plans else {}
    )
    history = dict(
        UsageRecord.objects.filter(
            customer__in=customers_qs,
            shot_date__gte=month_shift(start, -6),
            shot_date__lt=start,
        )
        .order_by()
        .values("customer_id")
        .annotate(n=Sum("shots"))
        .values_list("customer_id", "n")
    )
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
    by_customer: dict[int, list[tuple[int, _Pair]]] = defaultdict(list)
    for (customer_id, series_id), pair in pairs.items():
        by_customer[customer_id].append((series_id, pair))

    bills: list[dict[str, Any]] = []
    all_anomalies: list[dict[str, Any]] = []
    total = ZERO
    phases["read"], clock = time.perf_counter() - clock, time.perf_counter()
    candidates = [pk for pk in customers if pk not in issued]
    for done, customer_pk in enumerate(candidates, 1):
        company_id, billing = customers[customer_pk]
        priced = _price_customer(
            customer_pk=customer_pk,
            billing_enabled=billing == Customer.BillingEnabled.YES,
            series_pairs=sorted(by_customer.get(customer_pk, []), key=lambda sp: sp[0]),
            split=split,
            annual_before=annual_before,
            series_codes=series_codes,
            history_shots=history.get(customer_pk, 0),
            start=start,
        )
        kept = manual.get(customer_pk, [])
        if priced is None:
            if not kept:
                continue
            priced = ([], [], ZERO)
        lines, anomalies, bill_total = priced
        if kept:
            # Regeneration reprices usage but keeps the clerk's adjustments; total = sum of lines.
            lines = [*lines, *((None, None, line) for line in kept)]
            bill_total = to_money(bill_total + sum((line.amount for line in kept), ZERO))
            if bill_total != 0:
                anomalies = [a for a in anomalies if a["code"] != ZERO_TOTAL]
        number = bill_number_next(base=f"BILL-{start:%Y%m}-{company_id}", taken=numbers_taken)
        bills.append(
            {"customer_id": customer_pk, "number": number, "total": bill_total, "lines": lines}
        )
        bills[-1]["anomalies"] = anomalies
        for anomaly in anomalies:
            all_anomalies.append(
                {"customer_id": customer_pk, "company_id": company_id, "bill": number, **anomaly}
            )
        total += bill_total
        if progress and done % 500 == 0:
            progress(done, len(candidates))
    phases["price"], clock = time.perf_counter() - clock, time.perf_counter()
    _replace_drafts(customers_qs=customers_qs, start=start, bills=bills)
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
        phases=phases,
    )


# Engines are pure and their inputs frozen, so equal plans meet equal months often (the
# workbook's customers share a handful of tariffs): memoise within one run.
_TERM_KEYS = [
    f
    for f in PLAN_FIELDS
    if f not in ("valid_from", "valid_to", "source", "raw_single", "raw_multi")
]


_TERMS_CACHE: dict[tuple, PlanTerms] = {}


def _terms_cached(plan) -> PlanTerms:
    """Keyed by the plan's values (not its id), so an edited plan never hits a stale entry."""
    key = tuple(
        json.dumps(v, sort_keys=True) if isinstance(v, list) else v
        for v in (getattr(plan, f) for f in _TERM_KEYS)
    ) + (plan.contract_start or plan.valid_from,)
    terms = _TERMS_CACHE.get(key)
    if terms is None:
        if len(_TERMS_CACHE) > 10_000:
            _TERMS_CACHE.clear()
        terms = _TERMS_CACHE[key] = plan_terms(plan)
    return terms


@functools.lru_cache(maxsize=50_000)
def _price_cached(terms: PlanTerms, usage: UsageSummary, ctx: AnnualContext | None):
    return price_month(terms, usage, ctx)


def _price_customer(
    *,
    customer_pk,
    billing_enabled,
    series_pairs,
    split,
    annual_before,
    series_codes,
    history_shots,
    start,
):
    """(lines, anomalies, total) for one customer, or None when there is nothing to bill."""
    lines: list[tuple[int, int | None, Any]] = []
    anomalies: list[dict[str, Any]] = []
    month_shots = 0
    for series_id, pair in series_pairs:
        code = series_codes.get(series_id, "?")
        if pair.usage:
            month_shots += pair.usage.shots
        if not pair.plans:
            anomalies.append(
                {
                    "code": NO_PLAN,
                    "series": code,
                    "message": f"{code} 系列本月有用量 {pair.usage.shots} 次，但没有生效的价格方案",
                }
            )
            continue
        portions = []
        # Pairs whose plans do not cover the whole month have every plan's part in `split`.
        if (customer_pk, series_id, pair.plans[0].pk) in split:
            for plan in pair.plans:
                portions.append((plan, split.get((customer_pk, series_id, plan.pk))))
            uncovered = split.get((customer_pk, series_id, None))
            if uncovered and uncovered.shots:
                anomalies.append(
                    {
                        "code": NO_PLAN,
                        "series": code,
                        "message": f"{code} 系列有 {uncovered.shots} 次拍摄不在任何方案的有效期内",
                    }
                )
        else:
            portions.append((pair.plans[0], pair.usage))
        for plan, usage in portions:
            usage = usage or UsageSummary()
            ctx = None
            try:
                if plan.kind == ANNUAL:
                    contract_start = plan.contract_start or plan.valid_from
                    if contract_start is None:
                        raise ValueError("包年方案缺少合同年度开始日期")
                    _, index = contract_month(contract_start, start)
                    ctx = AnnualContext(
                        month_index=index, shots_before=annual_before.get(plan.pk, 0)
                    )
                breakdown = _price_cached(_terms_cached(plan), usage, ctx)
            except ValueError as exc:
                anomalies.append(
                    {"code": PRICING, "series": code, "message": f"{code} 系列无法计价：{exc}"}
                )
                continue
            for warning in breakdown.warnings:
                anomalies.append(
                    {"code": PRICING, "series": code, "message": f"{code} 系列：{warning}"}
                )
            lines.extend((series_id, plan.pk, line) for line in breakdown.lines)
    bill_total = sum((line.amount for _, _, line in lines), ZERO)
    if month_shots == 0 and bill_total == 0 and not billing_enabled:
        return None  # a plan on file but nothing to bill and billing not switched on
    if billing_enabled and month_shots == 0:
        anomalies.insert(
            0, {"code": NO_USAGE, "series": "", "message": "已开启结算，但本月没有用量"}
        )
    average = Decimal(history_shots) / 6
    if history_shots and month_shots > 3 * average:
        anomalies.append(
            {
                "code": SPIKE,
                "series": "",
                "message": f"本月拍摄 {month_shots} 次，超过近 6 个月月均 {average:.1f} 次的 3 倍",
            }
        )
    if bill_total == 0:
        anomalies.append({"code": ZERO_TOTAL, "series": "", "message": "账单金额为 0"})
    return lines, anomalies, to_money(bill_total)


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


def _customer_subquery(customers_qs) -> tuple[str, tuple]:
    sql, params = customers_qs.order_by().values("id").query.sql_with_params()
    return sql, params


def _replace_drafts(*, customers_qs, start: date, bills: list[dict[str, Any]]) -> None:
    """Replace the month's drafts of these customers with `bills`, lines included, in bulk.

    Raw SQL (auditlog's per-row signals would make 100,000 drafts crawl; the run is
    audited as one entry instead). On PostgreSQL a draft that is still wanted is
    updated in place and only new bills are inserted, by COPY: deleting and
    re-inserting 100,000 bills costs as many foreign-key checks again.
    """
    sub_sql, sub_params = _customer_subquery(customers_qs)
    bill_table, line_table = Bill._meta.db_table, BillLine._meta.db_table
    drafts = (
        f"SELECT id FROM {bill_table} WHERE period = %s AND kind = %s AND status = %s "  # noqa: S608
        f"AND customer_id IN ({sub_sql})"
    )
    params = [start, Bill.Kind.BILL, Bill.Status.DRAFT, *sub_params]
    now = timezone.now()
    if connection.vendor == "postgresql":
        _write_postgres(drafts, params, bills, start, now)
        return
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {line_table} WHERE bill_id IN ({drafts})", params)  # noqa: S608
        cur.execute(f"DELETE FROM {bill_table} WHERE id IN ({drafts})", params)  # noqa: S608
    objs = [
        Bill(
            number=b["number"],
            customer_id=b["customer_id"],
            period=start,
            total=b["total"],
            anomalies=b["anomalies"],
        )
        for b in bills
    ]
    Bill.objects.bulk_create(objs, batch_size=500)
    BillLine.objects.bulk_create(
        [
            _line_obj(bill.pk, position, series_id, plan_id, line)
            for bill, b in zip(objs, bills, strict=True)
            for position, (series_id, plan_id, line) in enumerate(b["lines"], 1)
        ],
        batch_size=500,
    )


def _line_obj(bill_id, position, series_id, plan_id, line) -> BillLine:
    return BillLine(
        bill_id=bill_id,
        position=position,
        series_id=series_id,
        plan_id=plan_id,
        line_type=line.line_type,
        band=line.band,
        quantity=line.quantity,
        unit_price=line.unit_price,
        amount=line.amount,
        explanation=line.explanation,
        floor_type=line.floor_type,
        reason=getattr(line, "reason", ""),
        created_by_id=getattr(line, "created_by_id", None),
    )


def _write_postgres(drafts: str, params: list, bills: list[dict[str, Any]], start, now) -> None:
    """PostgreSQL: a constant number of statements whatever the number of bills."""
    bill_table, line_table = Bill._meta.db_table, BillLine._meta.db_table
    with connection.cursor() as cur:
        raw = cur.cursor
        cur.execute(f"SELECT id, customer_id FROM {bill_table} WHERE id IN ({drafts})", params)  # noqa: S608
        existing = {customer_id: bill_id for bill_id, customer_id in cur.fetchall()}
        cur.execute(f"DELETE FROM {line_table} WHERE bill_id IN ({drafts})", params)  # noqa: S608
        wanted = {b["customer_id"] for b in bills}
        stale = [bill_id for customer_id, bill_id in existing.items() if customer_id not in wanted]
        if stale:
            cur.execute(f"DELETE FROM {bill_table} WHERE id = ANY(%s)", [stale])  # noqa: S608
        kept = [b for b in bills if b["customer_id"] in existing]
        fresh = [b for b in bills if b["customer_id"] not in existing]
        if kept:
            cur.execute("DROP TABLE IF EXISTS opcms_bill_update")
            cur.execute(
                "CREATE TEMP TABLE opcms_bill_update (id bigint, total numeric(14, 2), "
                "anomalies jsonb) ON COMMIT DROP"
            )
            with raw.copy("COPY opcms_bill_update (id, total, anomalies) FROM STDIN") as copy:
                for b in kept:
                    b["id"] = existing[b["customer_id"]]
                    copy.write_row(
                        (b["id"], b["total"], json.dumps(b["anomalies"], ensure_ascii=False))
                    )
            cur.execute(
                f"UPDATE {bill_table} AS b SET total = u.total, anomalies = u.anomalies, "  # noqa: S608
                "generated_at = %s, updated_at = %s FROM opcms_bill_update AS u WHERE b.id = u.id",
                [now, now],
            )
        if fresh:
            cur.execute(
                f"SELECT nextval(pg_get_serial_sequence('{bill_table}', 'id')) "  # noqa: S608
                "FROM generate_series(1, %s)",
                [len(fresh)],
            )
            for b, (bill_id,) in zip(fresh, cur.fetchall(), strict=True):
                b["id"] = bill_id
            bill_cols = (
                "id, number, kind, customer_id, period, status, total, amount_paid, reason, "
                "anomalies, generated_at, updated_at"
            )
            with raw.copy(f"COPY {bill_table} ({bill_cols}) FROM STDIN") as copy:
                for b in fresh:
                    copy.write_row(
                        (
                            b["id"],
                            b["number"],
                            Bill.Kind.BILL.value,
                            b["customer_id"],
                            start,
                            Bill.Status.DRAFT.value,
                            b["total"],
                            ZERO,
                            "",
                            json.dumps(b["anomalies"], ensure_ascii=False),
                            now,
                            now,
                        )
                    )
        line_cols = (
            "bill_id, position, series_id, plan_id, line_type, band, quantity, unit_price, "
            "amount, explanation, floor_type, reason, created_by_id"
        )
        with raw.copy(f"COPY {line_table} ({line_cols}) FROM STDIN") as copy:
            for b in bills:
                for position, (series_id, plan_id, line) in enumerate(b["lines"], 1):
                    copy.write_row(
                        (
                            b["id"],
                            position,
                            series_id,
                            plan_id,
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


def bills_generate_job_start(
    *, period: date, user: Any, customer_ids: list[int] | None = None
) -> Job:
    """Queue batch generation as a background job with progress; returns the job."""
    if not can_manage_billing(user):
        raise PermissionDenied("无权生成账单")
    from .tasks import bills_generate_task  # tasks import services; avoid the cycle at load

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
