"""Money arithmetic: one rounding rule (half-up to the fen) and one display format."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_money(v) -> Decimal:
    """Round to 0.01 half-up. Floats go through str() so 0.1 stays 0.1, not 0.1000000000000000055."""
    if isinstance(v, float):
        v = str(v)
    return Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(v) -> str:
    """¥1,234.50; negative amounts as −¥12.00 (the sign before the currency, as clerks write it)."""
    amount = to_money(v)
    sign = "−" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def format_quantity(v) -> str:
    """A quantity without trailing zeros: 3, 12.5, 1,234.5."""
    d = Decimal(v)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return f"{d.normalize():,f}"
