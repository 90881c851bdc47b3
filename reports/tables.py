"""ReceivableTable: the rows of the receivables report, sorted and paged on the server."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from billing.money import format_money
from customers.templatetags.customer_names import customer_name_html
from opcms.tables import DateColumn

from .selectors import AGEING_BUCKETS
from .templatetags.reports_tags import bill_url


class MoneyColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"th": {"class": "num"}, "td": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value) -> str:
        return format_money(value)


class ReceivableTable(tables.Table):
    customer = tables.Column(verbose_name="客户", order_by=("customer__company_id", "period"))
    sales_owner = tables.Column(
        verbose_name="销售负责人", accessor="customer__sales_owner_display", orderable=False
    )
    period = tables.Column(verbose_name="账期")
    due_date = DateColumn(verbose_name="到期日", format="Y-m-d")
    billed = MoneyColumn(verbose_name="应收")
    received = MoneyColumn(verbose_name="实收")
    outstanding = MoneyColumn(verbose_name="未收")
    overdue = MoneyColumn(verbose_name="逾期")

    class Meta:
        template_name = "includes/table.html"
        attrs = {"class": "table table-sm table-hover align-middle text-nowrap"}
        order_by = ("customer",)
        empty_text = "没有符合条件的已出账账单。调整筛选条件，或先在账单页生成并出账。"

    def __init__(self, *args, **kwargs):
        extra = [(key, MoneyColumn(verbose_name=label)) for key, label, _f, _l in AGEING_BUCKETS]
        super().__init__(*args, extra_columns=extra, **kwargs)

    def render_customer(self, record) -> str:
        customer = record.customer
        return format_html(
            '{} <span class="text-muted small">{}</span>',
            customer_name_html(pk=customer.pk, name=customer.name, is_deleted=customer.is_deleted),
            customer.company_id,
        )

    def render_period(self, record) -> str:
        return format_html('<a href="{}">{}</a>', bill_url(record.pk), f"{record.period:%Y-%m}")
