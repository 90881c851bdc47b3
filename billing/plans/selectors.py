"""Reads of price plans: the caller's plans, the version in force on a day, its pricing terms."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db.models import DateField, DecimalField, F, Func, JSONField, Q, QuerySet, TextField
from django.db.models.functions import Cast

from billing.models import Bill, BillLine, PricePlan
from billing.pricing import ANNUAL, Band, PlanTerms
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


# The plan's pricing terms (its dates aside), the one list PricePlan keeps.
_TERMS = [n for n in PricePlan.TERMS_FIELDS if n not in ("valid_from", "valid_to")]


def plan_terms_text():
    """An annotation: all terms of a plan as one JSON text (bands as their stored JSON text,
    inside). 100,000 plan rows of 20 columns through Django's converters, and a PlanTerms
    each, cost seconds; one text per plan, parsed once per distinct text, costs little."""
    parts = []
    for name in _TERMS:
        field_ = PricePlan._meta.get_field(name)
        parts.append(Cast(name, TextField()) if isinstance(field_, JSONField) else F(name))
    return Cast(Func(*parts, function="json_build_array"), TextField())


def _terms_values(text: str) -> dict:
    """plan_terms_text back into the plan's field values, as the model would load them."""
    values = {}
    # Numbers as Decimal straight from their text (never through a float).
    for name, raw in zip(_TERMS, json.loads(text, parse_float=Decimal), strict=True):
        field_ = PricePlan._meta.get_field(name)
        if raw is not None and isinstance(field_, JSONField):
            raw = json.loads(raw)
        elif raw is not None and isinstance(field_, DecimalField):
            raw = Decimal(raw)
        elif raw is not None and isinstance(field_, DateField):
            raw = date.fromisoformat(raw)
        values[name] = raw
    return values


class PlanTermsMemo:
    """plan_terms of plans read as plan_terms_text, built once per distinct set of terms.

    Plans with equal terms share one PlanTerms object (callers may key memo tables on
    its id while the memo lives).
    """

    def __init__(self) -> None:
        self._values: dict[str, dict] = {}
        self._terms: dict[tuple, PlanTerms] = {}

    def terms(self, text: str, valid_from: date | None) -> PlanTerms:
        values = self._values.get(text)
        if values is None:
            values = self._values[text] = _terms_values(text)
        # The engine reads the contract start only for annual packages, where it defaults
        # to the plan's first day; other kinds share terms whatever their dates.
        own_start = values["kind"] == ANNUAL and values["contract_start"] is None
        key = (text, valid_from if own_start else None)
        terms = self._terms.get(key)
        if terms is None:
            terms = self._terms[key] = plan_terms(SimpleNamespace(**values, valid_from=key[1]))
        return terms


def plan_is_locked(plan: PricePlan) -> bool:
    """Locked once it priced a bill that left draft (issued, paid or reversed)."""
    if plan.is_locked or plan.pk is None:
        return plan.is_locked
    return BillLine.objects.filter(plan=plan).exclude(bill__status=Bill.Status.DRAFT).exists()
