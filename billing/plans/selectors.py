"""Reads of price plans: the caller's plans, the version in force on a day, its pricing terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from billing.models import Bill, BillLine, PricePlan
from billing.pricing import Band, PlanTerms
from customers.selectors import scoped_customers


def scoped_plans(user: Any) -> QuerySet[PricePlan]:
    return PricePlan.objects.filter(customer__in=scoped_customers(user))


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
