"""Writes of price plans: create, edit, new version (never overlapping), lock once billed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q

from accounts.roles import can_manage_plans
from billing.close.lock import plan_assert_open
from billing.models import Bill, PricePlan
from billing.plans.selectors import bands_from_json, plan_is_locked
from billing.pricing import (
    ANNUAL,
    PER_SHOOT,
    TIERED,
    validate_bands,
)
from customers.models import Customer, DeviceSeries
from opcms.months import day_before, month_bounds

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


def plan_terms_check(*, plan: PricePlan) -> None:
    """Refuse terms a real plan could not have (the what-if's candidate passes here too)."""
    errors = _plan_errors(plan)
    if errors:
        raise ValidationError(errors)


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
    plan_assert_open(before=None, after=(plan.valid_from, plan.valid_to))
    plan.save()
    return plan


@transaction.atomic
def plan_update(*, user: Any, plan: PricePlan, data: dict[str, Any]) -> PricePlan:
    """Edit a plan that has not priced an issued bill; a locked plan needs a new version."""
    _check_plan_permission(user)
    _lock_customer(plan.customer)
    if plan_is_locked(plan):
        raise ValidationError("该方案已用于已出账账单，不能修改；请新建版本并指定生效日期。")
    before = PricePlan.objects.values_list("valid_from", "valid_to").get(pk=plan.pk)
    for name, value in data.items():
        if name in PLAN_FIELDS:
            setattr(plan, name, value)
    _plan_check(plan)
    plan_assert_open(before=before, after=(plan.valid_from, plan.valid_to))
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
    plan_assert_open(before=None, after=(new.valid_from, new.valid_to))
    plan_assert_open(
        before=(plan.valid_from, plan.valid_to), after=(plan.valid_from, day_before(valid_from))
    )
    plan.valid_to = day_before(valid_from)
    plan.save(update_fields=["valid_to"])
    new.save()
    return new


def plans_lock_for_bills(*, bills: list[Bill]) -> int:
    """Mark the plans that priced these bills as locked (called when bills are issued)."""
    return PricePlan.objects.filter(billline__bill__in=bills, is_locked=False).update(
        is_locked=True
    )
