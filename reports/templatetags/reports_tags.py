"""Formatting and link helpers for report pages: months as 2025-10 (money: billing's `money`)."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

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
