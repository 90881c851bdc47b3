"""Formatting and link helpers for report pages: months as 2025-10 (money: billing's `money`)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.urls import NoReverseMatch, reverse

from opcms.months import month_end
from reports.scorecard import FIGURE_BY_KEY

register = template.Library()


@register.filter
def month(value) -> str:
    return value.strftime("%Y-%m") if value else ""


def _url_or(name: str, pk: int, fallback: str) -> str:
    # The customer and bill pages are built by other issues; until they are merged
    # the path they will answer on stands in, so links and tests still work.
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return fallback


@register.simple_tag
def customer_url(pk: int) -> str:
    return _url_or("customers:customer-detail", pk, f"/customers/{pk}/")


@register.simple_tag
def bill_url(pk: int) -> str:
    return _url_or("billing:bill-detail", pk, f"/billing/bills/{pk}/")


@register.filter
def percent(value) -> str:
    """A Decimal fraction as a percentage with one decimal: 0.5893 → 58.9%; None → —."""
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'))}%"


@register.filter
def signed_percent(value) -> str:
    """A relative change: −0.3 → −30.0%, 0.1 → +10.0%; None → —."""
    if value is None:
        return "—"
    text = f"{(value * 100).quantize(Decimal('0.1'))}%"
    return text if value < 0 else f"+{text}"


@register.simple_tag
def scorecard_drilldown(key: str, period, which: str = "counted") -> str:
    """The page listing the rows behind one figure of one month (`which`: counted rows or
    the denominator)."""
    bill_query = FIGURE_BY_KEY[key].bill_query
    if bill_query:
        counted, base = bill_query
        query = counted if which == "counted" else base
        return f"{reverse('billing:bill-list')}?period={period:%Y-%m}&{query}"
    anchor = "churn-detail" if key == "churn_precision" else "adoption-detail"
    return f"{reverse('reports:scorecard')}?month={period:%Y-%m}#{anchor}"


@register.simple_tag
def audit_url(user_id: int, period) -> str:
    """The audit log of one user over one month."""
    return (
        f"{reverse('accounts:audit-list')}?actor={user_id}"
        f"&date_from={period:%Y-%m-%d}&date_to={month_end(period):%Y-%m-%d}"
    )
