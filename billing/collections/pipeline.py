"""Renewal pipeline: annual packages and Renewal records expiring within 60 days, by stage.

An item is an annual package whose contract year (or validity) ends within the
window, or a customer's Renewal record expiring within it. Last year's value: a
package's issued bill lines of the last 12 months (fee and overage), a Renewal's
amount. Projected need: a package's next year priced by the engine at its run-rate
(annual fee + overage beyond the quota); a Renewal's amount. The expected total per
month sums the projected need of items not lost, by month of expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from accounts.roles import can_follow_up_collections
from billing.audit import audited_as
from billing.collections.burndown import annual_plans_in_force, plan_burn_down
from billing.models import ZERO, Bill, BillLine, PricePlan, RenewalStage
from billing.plans.selectors import plan_terms
from billing.pricing import AnnualContext, UsageSummary, price_month
from customers.models import Customer, Renewal
from customers.selectors import scoped_customers

WINDOW_DAYS = 60
Stage = RenewalStage.Stage


@dataclass
class PipelineItem:
    kind: str  # "plan" / "renewal"
    pk: int
    customer: Customer
    title: str
    expires_on: date
    last_year_value: Decimal
    projected_need: Decimal
    need_note: str
    stage: str

    @property
    def stage_label(self) -> str:
        return Stage(self.stage).label


def _projected_package(plan: PricePlan, burn) -> tuple[Decimal, str]:
    shots = int(burn.run_rate * 12)
    breakdown = price_month(
        plan_terms(plan), UsageSummary(single_shots=shots), AnnualContext(month_index=1)
    )
    return breakdown.total, f"按月均 {burn.run_rate} 次推算下一年 {shots:,} 次"


def pipeline_items(user: Any, *, today: date) -> list[PipelineItem]:
    until = today + timedelta(days=WINDOW_DAYS)
    items: list[PipelineItem] = []
    plans = list(annual_plans_in_force(user, today=today))
    stages = {
        s.plan_id: s.stage for s in RenewalStage.objects.filter(plan__in=[p.pk for p in plans])
    }
    since = today - timedelta(days=365)
    for plan in plans:
        burn = plan_burn_down(plan, today=today)
        ends = min(burn.year_end, plan.valid_to) if plan.valid_to else burn.year_end
        if not today <= ends <= until:
            continue
        last_year = (
            BillLine.objects.filter(
                plan=plan,
                bill__status__in=(Bill.Status.ISSUED, Bill.Status.PARTIALLY_PAID, Bill.Status.PAID),
                bill__period__gte=since.replace(day=1),
            ).aggregate(s=Sum("amount"))["s"]
            or ZERO
        )
        need, note = _projected_package(plan, burn)
        items.append(
            PipelineItem(
                kind="plan",
                pk=plan.pk,
                customer=plan.customer,
                title=f"{plan.series.code} 包年套餐",
                expires_on=ends,
                last_year_value=last_year,
                projected_need=need,
                need_note=note,
                stage=stages.get(plan.pk, Stage.TO_CONTACT),
            )
        )
    renewals = list(
        Renewal.objects.filter(
            customer__in=scoped_customers(user), expires_on__gte=today, expires_on__lte=until
        )
        .exclude(status=Renewal.Status.LOST)
        .select_related("customer")
    )
    stages = {
        s.renewal_id: s.stage
        for s in RenewalStage.objects.filter(renewal__in=[r.pk for r in renewals])
    }
    for renewal in renewals:
        default = Stage.RENEWED if renewal.status == Renewal.Status.RENEWED else Stage.TO_CONTACT
        items.append(
            PipelineItem(
                kind="renewal",
                pk=renewal.pk,
                customer=renewal.customer,
                title=f"{renewal.get_kind_display()}（{renewal.period_months} 个月）",
                expires_on=renewal.expires_on,
                last_year_value=renewal.amount,
                projected_need=renewal.amount,
                need_note="续约记录金额",
                stage=stages.get(renewal.pk, default),
            )
        )
    items.sort(key=lambda i: (i.expires_on, i.customer.company_id))
    return items


def pipeline_by_month(items: list[PipelineItem]) -> list[dict[str, Any]]:
    """The pipeline's expected total per month of expiry (lost items excluded)."""
    months: dict[date, dict[str, Any]] = {}
    for item in items:
        if item.stage == Stage.LOST:
            continue
        month = item.expires_on.replace(day=1)
        row = months.setdefault(month, {"month": month, "count": 0, "expected": ZERO})
        row["count"] += 1
        row["expected"] += item.projected_need
    return [months[m] for m in sorted(months)]


@transaction.atomic
def renewal_stage_move(*, user: Any, kind: str, pk: int, stage: str) -> RenewalStage:
    """Move one pipeline item to `stage` (audited by the model's audit log)."""
    if not can_follow_up_collections(user):
        raise ValidationError("只有销售、运营和管理员可以调整续约阶段")
    scoped = scoped_customers(user)
    if kind == "plan":
        subject = PricePlan.objects.filter(customer__in=scoped, pk=pk).first()
        lookup = {"plan": subject}
    elif kind == "renewal":
        subject = Renewal.objects.filter(customer__in=scoped, pk=pk).first()
        lookup = {"renewal": subject}
    else:
        subject = None
    if subject is None:
        raise ValidationError("续约项目不存在或不在你的客户范围内")
    if stage not in Stage.values:
        raise ValidationError({"stage": "请选择续约阶段：待联系、洽谈中、已续约或流失"})
    row = RenewalStage.objects.select_for_update().filter(**lookup).first()
    with audited_as(user):
        if row is None:
            return RenewalStage.objects.create(**lookup, stage=stage, updated_by=user)
        if row.stage != stage:
            row.stage = stage
            row.updated_by = user
            row.save(update_fields=["stage", "updated_by", "updated_at"])
    return row
