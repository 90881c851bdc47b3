"""`{% bill_status bill %}`: a bill's status badge and the derived 逾期 flag, wherever a bill
appears (bill list, bill page, payment page, customer usage and summary).

Built in Python, not an included template: the bill list draws 50 a page, and rendering
the template once per row was 14 % of that page's CPU (cProfile). The markup is the one
the template had (tests/billing/bills/test_tables.py keeps the template's text to compare).
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

BADGE_CLASS = {
    "paid": "text-bg-success",
    "partially_paid": "text-bg-info",
    "issued": "text-bg-primary",
    "reversed": "text-bg-secondary",
}
OTHER_CLASS = "text-bg-light border"  # draft
OVERDUE = ' <span class="badge text-bg-danger bill-overdue">逾期</span>'


@register.simple_tag(name="bill_status")
def bill_status_badge(bill) -> SafeString:
    status = bill.status
    prefix = "冲正单 · " if bill.kind == "credit_note" else ""
    badge = (
        f'<span class="badge bill-status {BADGE_CLASS.get(status, OTHER_CLASS)}" '
        f'data-status="{escape(status)}">{prefix}{escape(bill.get_status_display())}</span>'
    )
    return mark_safe(badge + OVERDUE if bill.is_overdue else badge)  # noqa: S308 - escaped above
