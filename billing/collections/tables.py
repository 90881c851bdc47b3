"""The desk table: rows (`selectors.DeskRow`) in risk order, one stacked card each on a phone."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from billing.money import format_money


def _cell(label: str, extra: str = "") -> dict:
    # data-label feeds the phone layout (static/css/opcms.css: .desk-table)
    return {"td": {"data-label": label, "class": extra}, "th": {"class": extra}}


class DeskTable(tables.Table):
    customer = tables.Column(
        accessor="customer", orderable=False, verbose_name="客户", attrs=_cell("客户")
    )
    owner = tables.Column(
        # the workbook's owner text when no user matches it, as on the customer list
        accessor="customer__sales_owner_display",
        orderable=False,
        verbose_name="销售",
        default="—",
        attrs=_cell("销售"),
    )
    overdue_amount = tables.Column(
        orderable=False, verbose_name="逾期金额", attrs=_cell("逾期金额", "text-end")
    )
    oldest_days = tables.Column(
        orderable=False, verbose_name="最久逾期天数", attrs=_cell("最久逾期", "text-end")
    )
    last_contact_at = tables.Column(
        orderable=False, verbose_name="最近跟进", default="从未跟进", attrs=_cell("最近跟进")
    )
    promise = tables.Column(
        accessor="customer__pk", orderable=False, verbose_name="付款承诺", attrs=_cell("付款承诺")
    )
    credit = tables.Column(orderable=False, verbose_name="信用分", attrs=_cell("信用分"))
    actions = tables.Column(
        accessor="customer__pk", orderable=False, verbose_name="", attrs=_cell("操作")
    )

    class Meta:
        attrs = {
            "class": "table table-sm table-hover bg-white align-middle desk-table",
            "id": "desk-table",
        }
        row_attrs = {"class": "desk-row", "data-customer": lambda record: record.customer.pk}
        empty_text = "没有逾期客户。"

    def __init__(self, *args, can_follow_up: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_follow_up = can_follow_up

    def render_customer(self, value):
        return format_html(
            '<a href="{}" hx-boost="false">{}</a> <span class="text-muted small">{}</span>',
            reverse("customers:customer-detail", args=[value.pk]),
            value.name,
            value.company_id,
        )

    def render_overdue_amount(self, value):
        return format_money(value)

    def render_last_contact_at(self, value):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"

    def render_promise(self, record):
        parts = []
        if record.promise_date:
            parts.append(
                format_html(
                    '<span class="promise-open">{} 前付 {}</span>',
                    f"{record.promise_date:%Y-%m-%d}",
                    format_money(record.promise_amount),
                )
            )
        if record.broken_promise_date:
            parts.append(
                format_html(
                    '<span class="badge text-bg-danger promise-broken">已违约（{}）</span>',
                    f"{record.broken_promise_date:%Y-%m-%d}",
                )
            )
        if not parts:
            return "—"
        return format_html(" ".join(["{}"] * len(parts)), *parts)

    def render_credit(self, value):
        return format_html(
            '<span class="credit-score" title="{}">{} {}</span>'
            '<div class="small text-muted d-none d-md-block">{}</div>',
            value.sentence,
            value.score,
            value.grade,
            value.sentence,
        )

    def render_actions(self, record):
        url = reverse("billing:collections-customer", args=[record.customer.pk])
        label = "记录跟进" if self.can_follow_up else "查看跟进"
        return format_html(
            '<a class="btn btn-sm btn-outline-primary desk-follow-up" hx-boost="false" href="{}">{}</a>',
            url,
            label,
        )
