"""Pure pricing engines (DESIGN.md 2.1–2.3): a plan and a month's usage in, bill lines out.

No ORM, settings, clock or I/O here. Plans and usage arrive as frozen
dataclasses of Decimal/int/date; the result is a frozen Breakdown whose lines
each carry quantity, unit price, amount (rounded half-up to 0.01) and the
sentence a clerk checks. The bill total is the sum of the rounded lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from opcms.missing import PRICE_MISSING, is_missing

from .money import format_money, format_quantity, to_money

ZERO = Decimal("0")

# Kinds and modes, spelled as billing.models.PricePlan's TextChoices values.
PER_SHOOT, TIERED, ANNUAL = "per_shoot", "tiered", "annual"
UNIFIED, INCREMENTAL = "unified", "incremental"
GRADUATED, VOLUME = "graduated", "volume"
SHOOTS, FLOORS = "shoots", "floors"
UPFRONT, MONTHLY = "upfront", "monthly"
PERCENT, AMOUNT = "percent", "amount"


@dataclass(frozen=True)
class Band:
    """Units up to `up_to` (inclusive; None = no upper bound) at `price` each."""

    up_to: int | None
    price: Decimal


@dataclass(frozen=True)
class PlanTerms:
    kind: str
    single_price: Decimal | None = None
    multi_rule: str = UNIFIED
    multi_price: Decimal | None = None
    multi_base: Decimal | None = None
    multi_step: Decimal | None = None
    per_area: bool = False
    area_price: Decimal | None = None
    tier_mode: str = GRADUATED
    tier_unit: str = SHOOTS
    bands_shared: tuple[Band, ...] = ()
    bands_single: tuple[Band, ...] = ()
    bands_multi: tuple[Band, ...] = ()
    annual_fee: Decimal | None = None
    annual_quota: int | None = None
    overage_price: Decimal | None = None
    fee_schedule: str = UPFRONT
    contract_start: date | None = None
    minimum_charge: Decimal | None = None
    discount_kind: str = ""
    discount_value: Decimal | None = None
    discount_reason: str = ""


@dataclass(frozen=True)
class Shoot:
    """`shots` shoots of `floors` floors each; `area` is their total m² (None when unknown)."""

    shots: int
    floors: int = 1
    area: Decimal | None = None


@dataclass(frozen=True)
class UsageSummary:
    """A month's usage reduced to what every engine needs. All engines are linear in these
    sums, so the price cannot depend on the order of shoots or how records group them."""

    single_shots: int = 0
    single_area: Decimal = ZERO
    multi_shots: int = 0
    multi_floors: int = 0
    multi_area: Decimal = ZERO
    shots_without_area: int = 0

    @property
    def shots(self) -> int:
        return self.single_shots + self.multi_shots

    @property
    def floors(self) -> int:
        return self.single_shots + self.multi_floors


def summarize(shoots: Iterable[Shoot]) -> UsageSummary:
    s_shots = m_shots = m_floors = missing = 0
    s_area = m_area = ZERO
    for shoot in shoots:
        if shoot.shots < 0 or shoot.floors < 1:
            raise ValueError("拍摄量不能为负，楼层数至少为 1")
        if shoot.area is None:
            missing += shoot.shots
        if shoot.floors == 1:
            s_shots += shoot.shots
            s_area += shoot.area or ZERO
        else:
            m_shots += shoot.shots
            m_floors += shoot.shots * shoot.floors
            m_area += shoot.area or ZERO
    return UsageSummary(s_shots, s_area, m_shots, m_floors, m_area, missing)


@dataclass(frozen=True)
class AnnualContext:
    """What an annual package needs beyond the month: which month of the contract year this
    is (1–12) and how many shoots the contract year used before this month."""

    month_index: int
    shots_before: int = 0


@dataclass(frozen=True)
class Line:
    line_type: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    explanation: str
    band: str = ""
    floor_type: str = ""  # "single" / "multi" / "" — which usage stands behind the line


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[Line, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), to_money(0))


# --- engines ------------------------------------------------------------------------


def price_month(
    terms: PlanTerms, usage: UsageSummary, annual: AnnualContext | None = None
) -> Breakdown:
    """Price one plan over one month's usage: usage lines, then discount, then minimum top-up.

    The discount applies to the usage charge; the monthly minimum is checked
    after the discount (the customer pays at least the minimum, whatever the
    discount). The total never goes below zero.
    """
    warnings: list[str] = []
    if terms.kind == PER_SHOOT:
        lines = _per_shoot(terms, usage, warnings)
    elif terms.kind == TIERED:
        lines = _tiered(terms, usage)
    elif terms.kind == ANNUAL:
        if annual is None:
            raise ValueError("包年套餐计价需要合同年度信息")
        lines = _annual(terms, usage, annual)
    else:
        raise ValueError(f"未知计价方式：{terms.kind}")
    subtotal = sum((line.amount for line in lines), to_money(0))
    discount = _discount(terms, subtotal)
    if discount is not None:
        lines.append(discount)
        subtotal += discount.amount
    minimum = _minimum(terms, subtotal)
    if minimum is not None:
        lines.append(minimum)
    return Breakdown(tuple(lines), tuple(warnings))


def _line(line_type, quantity, unit_price, amount, explanation, band="", floor_type="") -> Line:
    return Line(
        line_type=line_type,
        quantity=Decimal(quantity),
        unit_price=to_money(unit_price),
        amount=to_money(amount),
        explanation=explanation,
        band=band,
        floor_type=floor_type,
    )


def _flat(line_type: str, label: str, shots: int, price: Decimal, note: str = "") -> Line:
    amount = to_money(shots * price)
    text = f"{label} {shots} 次{note}：{shots}×{format_money(price)} = {format_money(amount)}"
    return _line(line_type, shots, price, amount, text, floor_type=line_type)


def _by_area(line_type: str, label: str, area: Decimal, price: Decimal) -> Line:
    amount = to_money(area * price)
    qty = format_quantity(area)
    text = f"{label}按面积 {qty} m²：{qty}×{format_money(price)} = {format_money(amount)}"
    return _line("area", area, price, amount, text, floor_type=line_type)


def _multi_same_as_single(terms: PlanTerms) -> bool:
    # The workbook writes 0 (or nothing) in 多层定价 for "same as single-floor".
    return terms.multi_rule == UNIFIED and not terms.multi_price


def _per_shoot(terms: PlanTerms, usage: UsageSummary, warnings: list[str]) -> list[Line]:
    single = terms.single_price if terms.single_price is not None else ZERO
    lines: list[Line] = []
    if terms.per_area:
        area_price = terms.area_price if terms.area_price is not None else ZERO
        if usage.shots_without_area:
            warnings.append(
                f"按面积计价，但有 {usage.shots_without_area} 次拍摄缺少面积，按 0 m² 计"
            )
        if usage.single_shots:
            lines.append(_by_area("single", "单层", usage.single_area, area_price))
        if usage.multi_shots and _multi_same_as_single(terms):
            lines.append(_by_area("multi", "多层", usage.multi_area, area_price))
            return lines
    elif usage.single_shots:
        lines.append(_flat("single", "单层", usage.single_shots, single))
    if not usage.multi_shots:
        return lines
    if terms.multi_rule == INCREMENTAL:
        base = terms.multi_base or ZERO
        step = terms.multi_step or ZERO
        extra = usage.multi_floors - usage.multi_shots
        amount = to_money(usage.multi_shots * base + extra * step)
        text = (
            f"多层 {usage.multi_shots} 次，共 {usage.multi_floors} 层："
            f"{usage.multi_shots}×{format_money(base)} + {extra}×{format_money(step)}"
            f" = {format_money(amount)}"
        )
        # One line per the design's example; its unit price is the first-floor price and
        # the sentence shows the per-floor part.
        lines.append(_line("multi", usage.multi_shots, base, amount, text, floor_type="multi"))
    elif _multi_same_as_single(terms):
        lines.append(_flat("multi", "多层", usage.multi_shots, single, "（多层价同单层）"))
    else:
        lines.append(_flat("multi", "多层", usage.multi_shots, terms.multi_price))
    return lines


def _band_label(index: int, low: int, up_to: int | None, unit: str) -> str:
    if up_to is None:
        return f"第{index}档（{low:,} {unit}及以上）"
    return f"第{index}档（{low:,}–{up_to:,} {unit}）"


def validate_bands(bands: tuple[Band, ...]) -> None:
    if not bands:
        raise ValueError("阶梯不能为空")
    previous = 0
    for i, band in enumerate(bands, 1):
        if band.price < 0:
            raise ValueError(f"第{i}档单价不能为负")
        if band.up_to is None:
            if i != len(bands):
                raise ValueError(f"只有最后一档可以不设上限（第{i}档）")
        elif band.up_to <= previous:
            raise ValueError(f"第{i}档上限必须大于上一档上限 {previous}")
        else:
            previous = band.up_to
    if bands[-1].up_to is not None:
        raise ValueError("最后一档必须不设上限")


def tier_lines(
    bands: tuple[Band, ...], quantity: int, mode: str, unit: str, label: str = "", floor_type=""
) -> list[Line]:
    """Lines for `quantity` units over `bands`; `label` prefixes the sentence (单层/多层/全部)."""
    validate_bands(bands)
    if quantity <= 0:
        return []
    prefix = f"{label} " if label else ""
    line_type = floor_type or "all"
    if mode == VOLUME:
        low = 1
        for i, band in enumerate(bands, 1):
            if band.up_to is None or quantity <= band.up_to:
                name = _band_label(i, low, band.up_to, unit)
                amount = to_money(quantity * band.price)
                text = (
                    f"{prefix}共 {quantity:,} {unit}，整体适用{name}："
                    f"{quantity:,}×{format_money(band.price)} = {format_money(amount)}"
                )
                return [_line(line_type, quantity, band.price, amount, text, name, floor_type)]
            low = band.up_to + 1
        raise AssertionError("unreachable: last band is open")  # pragma: no cover
    if mode != GRADUATED:
        raise ValueError(f"未知阶梯方式：{mode}")
    lines = []
    low = 1
    for i, band in enumerate(bands, 1):
        if quantity < low:
            break
        top = quantity if band.up_to is None else min(quantity, band.up_to)
        units = top - low + 1
        name = _band_label(i, low, band.up_to, unit)
        amount = to_money(units * band.price)
        text = f"{prefix}{name}：{units:,}×{format_money(band.price)} = {format_money(amount)}"
        lines.append(_line(line_type, units, band.price, amount, text, name, floor_type))
        if band.up_to is None:
            break
        low = band.up_to + 1
    return lines


def _tiered(terms: PlanTerms, usage: UsageSummary) -> list[Line]:
    unit = "层" if terms.tier_unit == FLOORS else "次"
    if terms.tier_unit == FLOORS:
        single_qty, multi_qty = usage.single_shots, usage.multi_floors
    else:
        single_qty, multi_qty = usage.single_shots, usage.multi_shots
    if terms.bands_shared:
        return tier_lines(terms.bands_shared, single_qty + multi_qty, terms.tier_mode, unit)
    return [
        *tier_lines(terms.bands_single, single_qty, terms.tier_mode, unit, "单层", "single"),
        *tier_lines(terms.bands_multi, multi_qty, terms.tier_mode, unit, "多层", "multi"),
    ]


def annual_instalment(fee: Decimal, month_index: int) -> Decimal:
    """The fee in 12 instalments rounded half-up; the 12th takes the remainder so they sum to the fee."""
    regular = to_money(fee / 12)
    return to_money(fee - 11 * regular) if month_index == 12 else regular


def _annual(terms: PlanTerms, usage: UsageSummary, ctx: AnnualContext) -> list[Line]:
    if not 1 <= ctx.month_index <= 12:
        raise ValueError("合同月份必须在 1–12 之间")
    fee = terms.annual_fee or ZERO
    lines: list[Line] = []
    if terms.fee_schedule == MONTHLY:
        amount = annual_instalment(fee, ctx.month_index)
        text = (
            f"年费 {format_money(fee)} 按月分期，第 {ctx.month_index}/12 期：{format_money(amount)}"
        )
        lines.append(_line("annual_fee", 1, amount, amount, text))
    elif ctx.month_index == 1:
        text = f"年费 {format_money(fee)}（合同年度首月一次性收取）"
        lines.append(_line("annual_fee", 1, fee, fee, text))
    shots = usage.shots
    if terms.annual_quota is None:
        if shots:
            text = f"包年不限量，本月拍摄 {shots:,} 次，不另收费"
            lines.append(_line("all", shots, 0, 0, text))
        return lines
    quota = terms.annual_quota
    over_before = max(0, ctx.shots_before - quota)
    over_after = max(0, ctx.shots_before + shots - quota)
    overage = over_after - over_before
    included = shots - overage
    used = ctx.shots_before + shots
    if included:
        text = f"包年限量内 {included:,} 次（年度已用 {used:,}/{quota:,}），不另收费"
        lines.append(_line("all", included, 0, 0, text))
    if overage:
        price = terms.overage_price or ZERO
        amount = to_money(overage * price)
        text = (
            f"超出年度限量 {quota:,} 次的 {overage:,} 次："
            f"{overage:,}×{format_money(price)} = {format_money(amount)}"
        )
        lines.append(_line("overage", overage, price, amount, text))
    return lines


def _discount(terms: PlanTerms, subtotal: Decimal) -> Line | None:
    if not terms.discount_kind or not terms.discount_value or subtotal <= 0:
        return None
    reason = f"（{terms.discount_reason}）" if terms.discount_reason else ""
    if terms.discount_kind == PERCENT:
        pct = terms.discount_value
        amount = to_money(min(subtotal, subtotal * pct / 100))
        text = f"折扣 {format_quantity(pct)}%{reason}：{format_money(subtotal)}×{format_quantity(pct)}% = −{format_money(amount)}"
    elif terms.discount_kind == AMOUNT:
        amount = min(subtotal, to_money(terms.discount_value))
        text = f"减免{reason}：−{format_money(amount)}"
    else:
        raise ValueError(f"未知折扣方式：{terms.discount_kind}")
    return _line("discount", 1, -amount, -amount, text)


def _minimum(terms: PlanTerms, subtotal: Decimal) -> Line | None:
    minimum = terms.minimum_charge
    if not minimum or subtotal >= minimum:
        return None
    top_up = to_money(minimum - subtotal)
    text = (
        f"月最低消费 {format_money(minimum)}，本月 {format_money(subtotal)}，"
        f"补足 {format_money(top_up)}"
    )
    return _line("minimum", 1, top_up, top_up, text)


def contract_month(contract_start: date, period: date) -> tuple[date, int]:
    """(start of the contract year containing `period`, month index 1–12 within it)."""
    months = (period.year - contract_start.year) * 12 + period.month - contract_start.month
    if months < 0:
        raise ValueError("账期早于合同开始日期")
    year_offset, index = divmod(months, 12)
    start = date(contract_start.year + year_offset, contract_start.month, 1)
    return start, index + 1


# --- the workbook's raw price texts --------------------------------------------------

METHODS = {
    "定价结算": (PER_SHOOT, False),
    "包年套餐": (ANNUAL, False),
    "包年限量套餐": (ANNUAL, True),
}
UNDECIDED_METHODS = {"待确认"}
_FULLWIDTH = str.maketrans(
    {
        "（": "(",
        "）": ")",
        "＋": "+",
        "－": "-",
        "−": "-",
        "＊": "*",
        "×": "*",
        "Ｆ": "F",
        "ｆ": "F",
        "．": ".",
    }
)
_NUM = r"(\d+(?:\.\d+)?)"
_INCREMENTAL = [
    re.compile(rf"^{_NUM}\+\(F-1\)\*{_NUM}$"),
    re.compile(rf"^{_NUM}\+{_NUM}\*\(F-1\)$"),
]
_AREA = re.compile(rf"^(?:1)?m[²2]{_NUM}元$|^{_NUM}元/m[²2]$")


@dataclass(frozen=True)
class ParsedPrice:
    kind: str
    annual_limited: bool = False
    single_price: Decimal | None = None
    multi_rule: str = UNIFIED
    multi_price: Decimal | None = None
    multi_base: Decimal | None = None
    multi_step: Decimal | None = None
    per_area: bool = False
    area_price: Decimal | None = None


def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip().strip("'").translate(_FULLWIDTH).replace(" ", "").replace("　", "")


def _is_missing(text: str) -> bool:
    return is_missing(text, PRICE_MISSING)


def _number(text: str, column: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{column}“{text}”无法识别为价格") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{column}“{text}”不是有效的价格")
    return to_money(value)


def parse_workbook_prices(method_raw, single_raw, multi_raw) -> ParsedPrice | None:
    """Read 结算方式/单层定价/多层定价 as the workbook writes them; None when there is no price.

    Never guesses: an unknown method or a price text it cannot read raises
    ValueError with a Chinese message naming the column. `待确认` (undecided)
    with prices present is refused too — the clerk must decide the method.
    """
    method, single, multi = _text(method_raw), _text(single_raw), _text(multi_raw)
    if _is_missing(method) or method == "0":
        if _is_missing(single) and _is_missing(multi):
            return None
        raise ValueError("结算方式为空，但填写了价格：请先确定结算方式")
    if method in UNDECIDED_METHODS:
        if (_is_missing(single) or single == "0") and (_is_missing(multi) or multi == "0"):
            return None
        raise ValueError("结算方式“待确认”：价格未导入，请确定结算方式后建立方案")
    if method not in METHODS:
        raise ValueError(f"结算方式“{method}”无法识别（应为 定价结算/包年套餐/包年限量套餐）")
    kind, limited = METHODS[method]
    values: dict = {"kind": kind, "annual_limited": limited}
    if _is_missing(single):
        if kind == PER_SHOOT:
            raise ValueError("单层定价为空")
    else:
        area = _AREA.match(single)
        if area:
            values["per_area"] = True
            values["area_price"] = _number(area.group(1) or area.group(2), "单层定价")
        else:
            values["single_price"] = _number(single, "单层定价")
    if _is_missing(multi) or multi == "0":
        return ParsedPrice(**values)
    for pattern in _INCREMENTAL:
        match = pattern.match(multi.upper())
        if match:
            values["multi_rule"] = INCREMENTAL
            values["multi_base"] = _number(match.group(1), "多层定价")
            values["multi_step"] = _number(match.group(2), "多层定价")
            return ParsedPrice(**values)
    if "F" in multi.upper():
        raise ValueError(f"多层定价公式“{multi}”无法识别（应如 14+(F-1)*10）")
    values["multi_price"] = _number(multi, "多层定价")
    return ParsedPrice(**values)
