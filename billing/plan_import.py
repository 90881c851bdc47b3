"""Price plans from the customer workbook's staged price columns (issue-4 hand-off).

The customer import stores each row's raw 结算方式/单层定价/多层定价 in
customers.ImportedPrice; this module turns them into plans for the workbook's
series. It never guesses: a text it cannot read, an undecided method or an
annual package (the workbook has no fee or quota) is a warning naming the row
and the cell, and no plan is made for it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from .models import DeviceSeries, PricePlan
from .pricing import ANNUAL, ParsedPrice, parse_workbook_prices
from .selectors import plan_is_locked
from .services import plan_create, plan_new_version, plan_update

PRICE_FIELDS = [
    "single_price",
    "multi_rule",
    "multi_price",
    "multi_base",
    "multi_step",
    "per_area",
    "area_price",
]


def _plan_data(parsed: ParsedPrice, imported: Any, valid_from: date | None) -> dict[str, Any]:
    data = {name: getattr(parsed, name) for name in PRICE_FIELDS}
    data.update(
        kind=PricePlan.Kind.PER_SHOOT,
        valid_from=valid_from,
        source=PricePlan.Source.IMPORT,
        raw_single=str(imported.single_raw or "")[:50],
        raw_multi=str(imported.multi_raw or "")[:50],
    )
    return data


def _same_price(plan: PricePlan, data: dict[str, Any]) -> bool:
    return plan.kind == data["kind"] and all(
        getattr(plan, name) == data[name] for name in PRICE_FIELDS
    )


def _cell(imported: Any, column: str) -> str:
    return f"第 {imported.row_number} 行“{column}”"


@transaction.atomic
def plans_from_imported_prices(*, imported_prices, valid_from: date | None, user) -> list[str]:
    """Create or update per-shoot plans from staged workbook prices; returns row warnings.

    With `valid_from`, a changed price becomes a new plan version from that date
    (the old version ends the day before). Without it, an unlocked plan is
    updated in place — so the usage already on record is priced by it — and a
    locked one is left alone with a warning. Every processed row is marked consumed.
    """
    warnings: list[str] = []
    series_by_code = {s.code.upper(): s for s in DeviceSeries.objects.all()}
    processed = []
    for imported in imported_prices:
        processed.append(imported)
        try:
            parsed = parse_workbook_prices(
                imported.method_raw, imported.single_raw, imported.multi_raw
            )
        except ValueError as exc:
            column = (
                "多层定价"
                if "多层" in str(exc)
                else "结算方式"
                if "结算方式" in str(exc)
                else "单层定价"
            )
            warnings.append(f"{_cell(imported, column)}：{exc}，未建立价格方案")
            continue
        if parsed is None:
            continue
        if parsed.kind == ANNUAL:
            name = "包年限量套餐" if parsed.annual_limited else "包年套餐"
            warnings.append(
                f"{_cell(imported, '结算方式')}：{name}的年费和限量不在工作簿中，"
                "未建立价格方案，请在客户用量页手工建立"
            )
            continue
        series = series_by_code.get(str(imported.series_code or "").upper())
        if series is None:
            warnings.append(f"第 {imported.row_number} 行：设备系列“{imported.series_code}”不存在")
            continue
        data = _plan_data(parsed, imported, valid_from)
        try:
            warning = _apply(imported, series, data, valid_from, user)
        except Exception as exc:  # a ValidationError from the plan services, in the clerk's words
            messages = getattr(exc, "messages", [str(exc)])
            warnings.append(f"第 {imported.row_number} 行：{'；'.join(messages)}")
            continue
        if warning:
            warnings.append(warning)
    _mark_consumed(processed)
    return warnings


def _apply(imported, series, data, valid_from, user) -> str | None:
    customer = imported.customer
    current = (
        PricePlan.objects.filter(customer=customer, series=series).order_by("-version").first()
    )
    if current is None:
        plan_create(user=user, customer=customer, series=series, data=data)
        return None
    if _same_price(current, data):
        return None
    if valid_from is not None and (current.valid_from is None or valid_from > current.valid_from):
        plan_new_version(user=user, plan=current, valid_from=valid_from, data=data)
        return None
    if plan_is_locked(current):
        return (
            f"第 {imported.row_number} 行：{series.code} 系列现有方案已用于已出账账单，"
            "价格变化未导入；请指定生效日期（--valid-from）重新导入"
        )
    data.pop("valid_from")
    plan_update(user=user, plan=current, data=data)
    return None


def _mark_consumed(processed: list[Any]) -> None:
    by_model: dict[type, list] = {}
    for imported in processed:
        imported.consumed = True
        by_model.setdefault(type(imported), []).append(imported)
    for model, rows in by_model.items():
        manager = getattr(model, "objects", None)
        if manager is not None:
            manager.filter(pk__in=[r.pk for r in rows]).update(consumed=True)
