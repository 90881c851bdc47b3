"""The payment list table: sorted and paged on the server, amounts as ¥1,234.50."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from billing.bills.tables import MoneyColumn
from billing.models import Payment
from billing.money import format_money
from opcms.tables import DateColumn

PER_PAGE = 30


class PaymentTable(tables.Table):
    # Column names are the ?sort= keys the page has always used (date, customer, amount).
    date = DateColumn(accessor="received_on", format="Y-m-d", verbose_name="收款日期")
    customer = tables.Column(
        accessor="customer__name", order_by=("customer__company_id",), verbose_name="客户"
    )
    method = tables.Column(verbose_name="方式")
    bank_ref = tables.Column(verbose_name="银行流水号")
    payer = tables.Column(verbose_name="付款人")
    amount = MoneyColumn(verbose_name="金额")
    allocated = MoneyColumn(verbose_name="已核销")
    unallocated = tables.Column(
        accessor="pk", orderable=False, verbose_name="未核销（余额）", attrs=MoneyColumn.attrs
    )
    action = tables.Column(accessor="pk", orderable=False, verbose_name="")

    class Meta:
        model = Payment
        fields = ("date", "customer", "method", "bank_ref", "payer", "amount", "allocated")
        attrs = {"class": "table table-sm table-hover bg-white align-middle"}
        empty_text = "还没有收款记录。运营可点击“登记收款”录入到账款项，或导入银行收款文件。"

    def __init__(self, *args, can_manage: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_manage = can_manage

    def render_customer(self, value, record):
        return format_html(
            '{} <span class="text-muted small">{}</span>', value, record.customer.company_id
        )

    def render_method(self, record):
        return record.get_method_display()

    def render_unallocated(self, record):
        if not record.unallocated:
            return "—"
        return format_html(
            '<span class="text-warning-emphasis">{}</span>', format_money(record.unallocated)
        )

    def render_action(self, record):
        label = "核销" if self.can_manage and record.unallocated else "查看"
        return format_html(
            '<a href="{}" hx-boost="false">{}</a>',
            reverse("billing:payment-detail", args=[record.pk]),
            label,
        )
