"""The what-if table: per customer, sorted and paged on the server."""

from __future__ import annotations

from decimal import Decimal

import django_tables2 as tables

from billing.bills.tables import MoneyColumn

PER_PAGE = 50
# New revenue (no current revenue) sorts above every finite increase.
NEW_REVENUE = Decimal("Infinity")


class PercentColumn(tables.Column):
    attrs = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}

    def render(self, value):
        return f"{value:+.2f}%"


class WhatIfTable(tables.Table):
    company_id = tables.Column(verbose_name="公司id")
    name = tables.Column(verbose_name="客户")
    billed = MoneyColumn(verbose_name="已出账")
    current = MoneyColumn(verbose_name="现行方案")
    candidate = MoneyColumn(verbose_name="候选方案")
    difference = MoneyColumn(verbose_name="差额")
    change_pct = PercentColumn(verbose_name="变化", order_by=("change_key",), default="新增")

    class Meta:
        fields = (
            "company_id",
            "name",
            "billed",
            "current",
            "candidate",
            "difference",
            "change_pct",
        )
        attrs = {"class": "table table-sm table-hover bg-white align-middle", "id": "whatif-rows"}
        empty_text = "所选客户在这些月份没有该系列的方案或用量。"


def table_rows(rows: list[dict]) -> list[dict]:
    """Rows as the table sorts them: a sortable key beside the change in % (None = new)."""
    return [
        {**row, "change_key": NEW_REVENUE if row["change_pct"] is None else row["change_pct"]}
        for row in rows
    ]
