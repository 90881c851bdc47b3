"""`{{ amount|money }}` → ¥1,234.50, the one way amounts are shown."""

from django import template

from billing.money import format_money, format_quantity

register = template.Library()


@register.filter
def money(value):
    if value is None or value == "":
        return "—"
    return format_money(value)


@register.filter
def qty(value):
    if value is None or value == "":
        return "—"
    return format_quantity(value)
