"""The bill list table: sorted and paged on the server, amounts as ¥1,234.50."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html_join

from billing.models import Bill
from billing.money import format_money
from billing.templatetags.bill_status import bill_status_badge

PER_PAGE = 50


class MoneyColumn(tables.Column):
    attrs = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}

    def render(self, value):
        return format_money(value)


class BillTable(tables.Table):
    # Record links leave the boosted table (hx-boost="false"); sort and page links swap it.
    number = tables.LinkColumn(
        "billing:bill-detail",
        args=[tables.A("pk")],
        attrs={"a": {"hx-boost": "false"}},
        verbose_name="账单号",
    )
    company_id = tables.Column(accessor="customer__company_id", verbose_name="公司id")
    customer = tables.Column(
        accessor="customer__name", order_by=("customer__name",), verbose_name="客户"
    )
    status = tables.Column(empty_values=(), verbose_name="状态")
    total = MoneyColumn(verbose_name="金额")
    amount_paid = MoneyColumn(verbose_name="已核销")
    anomalies = tables.Column(empty_values=(), orderable=False, verbose_name="异常")

    class Meta:
        model = Bill
        fields = ("number", "company_id", "customer", "status", "total", "amount_paid", "anomalies")
        attrs = {"class": "table table-sm table-hover bg-white align-middle"}
        empty_text = "该月还没有账单。录入或导入用量后，由运营点击“生成本月账单”。"

    # The two cells below were TemplateColumns, whose template code django-tables2 compiles
    # again for every cell (50 rows: a third of the page's CPU, cProfile); the same markup.
    def render_status(self, record):
        return bill_status_badge(record)

    def render_anomalies(self, record):
        if not record.anomalies:
            return ""
        href = reverse("billing:bill-detail", args=[record.pk])
        return format_html_join(
            "",
            '<a class="badge text-bg-warning text-decoration-none anomaly-link" hx-boost="false" '
            'href="{}#anomalies">{}</a> ',
            ((href, anomaly.get("message", "")) for anomaly in record.anomalies),
        )
