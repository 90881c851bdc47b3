"""Package burn-down: annual packages' shots against quota, run-rate and projected quota-out.

`burn_down_compute` is pure (worked examples test it); `package_burn_downs` reads
the plans in force and their usage through the user's scope. The money of the
projected overage comes from the pricing engine (`billing.pricing.price_month`),
the same lines a bill would carry.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum

from billing.models import ZERO, PricePlan, UsageRecord
from billing.plans.selectors import plan_terms
from billing.pricing import AnnualContext, PlanTerms, UsageSummary, contract_month, price_month
from customers.selectors import scoped_customers
from opcms.months import month_shift

RUN_RATE_MONTHS = 3

DEFINITION = (
    "合同年度：从合同年度开始的月份起 12 个月（与账单计算超量时的口径一致）。已用：本合同年度至今的拍摄量。"
    "月均用量（run-rate）：本月之前 3 个完整自然月的拍摄量之和 ÷ 3。"
    "预计用完日期：按这 3 个月的日均用量（总量 ÷ 天数）从今天起推算剩余额度用完的日子；已用完的显示实际用完那天；"
    "合同年度结束前用不完的显示“年度内不会用完”。"
    "预计超量金额：按同样的日均用量推算到合同年度结束的超量拍摄量，用价格方案的超量单价（计价引擎）计算，不含折扣。"
)


@dataclass
class BurnDown:
    quota: int | None
    year_start: date
    year_end: date
    used: int
    run_rate: Decimal  # shots per month, last three full months
    quota_out_on: date | None  # the day it ran / will run out, None when not within the year
    already_out: bool
    projected_total: int
    projected_overage: int
    projected_overage_money: Decimal
    months: list[dict[str, Any]] = field(default_factory=list)  # chart: month, used, cumulative

    @property
    def unlimited(self) -> bool:
        return self.quota is None

    @property
    def share_used(self) -> float | None:
        return self.used / self.quota if self.quota else None


def _year_bounds(contract_start: date, today: date) -> tuple[date, date]:
    """The contract year containing today, by months as the bills count it (pricing.contract_month)."""
    start, _ = contract_month(contract_start.replace(day=1), today.replace(day=1))
    return start, month_shift(start, 12) - timedelta(days=1)


def burn_down_compute(
    *, terms: PlanTerms, today: date, daily: Iterable[tuple[date, int]]
) -> BurnDown:
    """The burn-down of one annual package on `today` from its daily shots (any order; days
    outside the contract year and run-rate window are ignored)."""
    contract_start = terms.contract_start or today
    year_start, year_end = _year_bounds(contract_start, today)
    this_month = today.replace(day=1)
    rate_from = month_shift(this_month, -RUN_RATE_MONTHS)
    rate_days = (this_month - rate_from).days
    used = 0
    rate_shots = 0
    by_month: dict[date, int] = {}
    crossings: list[tuple[date, int]] = []
    for day, shots in sorted(daily):
        if rate_from <= day < this_month:
            rate_shots += shots
        if year_start <= day <= today:
            used += shots
            by_month[day.replace(day=1)] = by_month.get(day.replace(day=1), 0) + shots
            crossings.append((day, used))
    quota = terms.annual_quota
    per_day = Decimal(rate_shots) / rate_days
    run_rate = (Decimal(rate_shots) / RUN_RATE_MONTHS).quantize(Decimal("0.1"))
    days_left = (year_end - today).days
    projected_total = used + int((per_day * days_left).to_integral_value())
    quota_out_on = None
    already_out = False
    if quota is not None:
        if used >= quota:
            already_out = True
            quota_out_on = next(day for day, cumulative in crossings if cumulative >= quota)
        elif per_day > 0:
            out = today + timedelta(days=math.ceil((quota - used) / per_day))
            quota_out_on = out if out <= year_end else None
    projected_overage = max(0, projected_total - quota) if quota is not None else 0
    money = ZERO
    if projected_overage:
        # Price the whole year's projected shots as one usage: the engine's overage lines are
        # the money beyond the quota (month index 2: no up-front fee line).
        breakdown = price_month(
            terms,
            UsageSummary(single_shots=projected_total),
            AnnualContext(month_index=2, shots_before=0),
        )
        money = sum((line.amount for line in breakdown.lines if line.line_type == "overage"), ZERO)
    months = []
    cumulative = 0
    month = year_start.replace(day=1)
    while month <= this_month:
        cumulative += by_month.get(month, 0)
        months.append({"month": month, "used": by_month.get(month, 0), "cumulative": cumulative})
        month = month_shift(month, 1)
    return BurnDown(
        quota=quota,
        year_start=year_start,
        year_end=year_end,
        used=used,
        run_rate=run_rate,
        quota_out_on=quota_out_on,
        already_out=already_out,
        projected_total=projected_total,
        projected_overage=projected_overage,
        projected_overage_money=money,
        months=months,
    )


def annual_plans_in_force(user: Any, *, today: date) -> QuerySet[PricePlan]:
    return (
        PricePlan.objects.filter(
            customer__in=scoped_customers(user),
            kind=PricePlan.Kind.ANNUAL,
            valid_from__lte=today,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .select_related("customer__sales_owner", "series")
        .order_by("customer__company_id", "series__code")
    )


def plan_burn_down(plan: PricePlan, *, today: date) -> BurnDown:
    terms = plan_terms(plan)
    start = min(
        month_shift(today.replace(day=1), -RUN_RATE_MONTHS),
        (terms.contract_start or today) - timedelta(days=400),
    )
    daily = (
        UsageRecord.objects.filter(
            customer_id=plan.customer_id,
            series_id=plan.series_id,
            shot_date__gte=max(start, today - timedelta(days=400)),
            shot_date__lte=today,
        )
        .values("shot_date")
        .annotate(shots=Sum("shots"))
        .values_list("shot_date", "shots")
    )
    return burn_down_compute(terms=terms, today=today, daily=list(daily))


def package_burn_downs(user: Any, *, today: date) -> list[tuple[PricePlan, BurnDown]]:
    """Every annual package in force in the user's scope, soonest quota-out first."""
    rows = [
        (plan, plan_burn_down(plan, today=today))
        for plan in annual_plans_in_force(user, today=today)
    ]
    far = date.max
    rows.sort(key=lambda r: (r[1].quota_out_on or far, -r[1].projected_overage_money))
    return rows


def burn_down_chart(burn: BurnDown) -> dict[str, Any]:
    """The chart's data: actual cumulative shots per month, then a straight projection at the
    run-rate to the contract year's last month."""
    months = [f"{m['month']:%Y-%m}" for m in burn.months]
    cumulative: list[int | None] = [m["cumulative"] for m in burn.months]
    projected: list[int | None] = [None] * (len(months) - 1) + [burn.used]
    last = burn.months[-1]["month"] if burn.months else burn.year_start
    month, value = month_shift(last, 1), Decimal(burn.used)
    while month <= burn.year_end:
        value += burn.run_rate
        months.append(f"{month:%Y-%m}")
        cumulative.append(None)
        projected.append(int(value))
        month = month_shift(month, 1)
    return {"months": months, "cumulative": cumulative, "projected": projected, "quota": burn.quota}
