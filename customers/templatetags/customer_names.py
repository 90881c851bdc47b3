"""A customer's name as shown in money lists: a link, or, once soft-deleted, a "已删除" badge.

Money never disappears with a customer (receivables, cockpit and statements keep a deleted
customer's bills and payments), so the name stays on those lists; its detail page is gone
(out of `scoped_customers`), so a deleted name is plain text marked 已删除, not a dead link.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

DELETED_BADGE = '<span class="badge text-bg-secondary customer-deleted-badge">已删除</span>'


def customer_name_html(*, pk: int, name: str, is_deleted: bool, link: bool = True) -> SafeString:
    if is_deleted:
        return format_html("{} " + DELETED_BADGE, name)
    if not link:
        return format_html("{}", name)
    return format_html('<a href="{}">{}</a>', reverse("customers:customer-detail", args=[pk]), name)


@register.simple_tag
def customer_name(customer=None, *, pk=None, name=None, is_deleted=False, link=True) -> SafeString:
    """`{% customer_name customer %}` for a model, or pk=/name=/is_deleted= for value rows."""
    if customer is not None:
        pk, name, is_deleted = customer.pk, customer.name, customer.is_deleted
    return customer_name_html(pk=pk, name=name, is_deleted=bool(is_deleted), link=link)
