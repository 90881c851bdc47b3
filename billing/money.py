"""Money rounding: one helper, half-up to 0.01."""

from decimal import ROUND_HALF_UP, Decimal


def to_money(v) -> Decimal:
    return Decimal(v).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
