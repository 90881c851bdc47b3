"""The bill list table: sorted and paged on the server, amounts as ¥1,234.50."""

from __future__ import annotations

import django_tables2 as tables

from billing.models import Bill
from billing.money import format_money

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
    status = tables.TemplateColumn(
        '{% include "billing/reconcile_bill_status.html" with bill=record %}', verbose_name="状态"
    )
    total = MoneyColumn(verbose_name="金额")
    amount_paid = MoneyColumn(verbose_name="已核销")
    anomalies = tables.TemplateColumn(
        "{% for a in record.anomalies %}"
        '<a class="badge text-bg-warning text-decoration-none anomaly-link" hx-boost="false" '
        "href=\"{% url 'billing:bill-detail' record.pk %}#anomalies\">{{ a.message }}</a> "
        "{% endfor %}",
        orderable=False,
        verbose_name="异常",
    )

    class Meta:
        model = Bill
        fields = ("number", "company_id", "customer", "status", "total", "amount_paid", "anomalies")
        attrs = {"class": "table table-sm table-hover bg-white align-middle"}
        empty_text = "该月还没有账单。录入或导入用量后，由运营点击“生成本月账单”。"
