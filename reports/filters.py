"""ReceivableFilter: the one filter of the receivables report, shared by its page and its export.

The report's figures (rows, totals, by month) come from the selectors, which
apply a `ReportFilters`; the FilterSet is the form that validates the request
and hands the selectors that one value, so the page, its totals and the
workbook can never be narrowed differently.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters as df
from django import forms

from accounts.models import User
from billing.models import Bill
from customers.models import Customer, DeviceSeries
from customers.selectors import scoped_customers

from . import selectors
from .forms import MonthField
from .selectors import ReportFilters


class MonthFilter(df.DateFilter):
    field_class = MonthField


class ReceivableFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("month_from"), data.get("month_to")
        if start and end and start > end:
            self.add_error("month_to", "结束月份不能早于起始月份。")
        return data


class ReceivableFilter(df.FilterSet):
    sales_owner = df.ModelChoiceFilter(
        label="销售负责人", queryset=User.objects.none(), empty_label="全部", method="keep"
    )
    level = df.ChoiceFilter(
        label="客户等级", choices=Customer.Level.choices, empty_label="全部", method="keep"
    )
    series = df.ChoiceFilter(label="设备系列", choices=[], empty_label="全部", method="keep")
    month_from = MonthFilter(label="起始月份", method="keep")
    month_to = MonthFilter(label="结束月份", method="keep")
    group_by = df.ChoiceFilter(
        label="汇总方式",
        choices=[("group", "按集团")],
        empty_label="按客户",
        method="keep",
    )

    class Meta:
        model = Bill
        fields: list[str] = []
        form = ReceivableFilterForm

    def __init__(self, data=None, *, user: Any, today: date, **kwargs: Any) -> None:
        # Unbound, django-filter returns the base queryset as is: every row of the scope.
        rows = selectors.receivable_rows(user, filters=ReportFilters(), today=today)
        super().__init__(data, queryset=rows, **kwargs)
        self.user, self.today = user, today
        # Only owners of customers the user can see: a sales user sees just themself.
        owner = self.filters["sales_owner"]
        owner.queryset = User.objects.filter(
            pk__in=scoped_customers(user).values("sales_owner_id")
        ).order_by("full_name", "username")
        self.filters["series"].extra["choices"] = list(
            DeviceSeries.objects.values_list("code", "name")
        )
        self.form.fields["sales_owner"].label_from_instance = lambda u: u.display_name
        for name, field in self.form.fields.items():
            if name not in ("month_from", "month_to"):
                field.widget.attrs.setdefault("class", "form-select")

    def keep(self, queryset, name, value):
        # Every filter reaches the rows through report_filters() (see filter_queryset).
        return queryset

    def report_filters(self) -> ReportFilters:
        """The filters to apply; an unbound or invalid filter narrows nothing (errors are shown)."""
        if not self.is_bound or not self.is_valid():
            return ReportFilters()
        data = self.form.cleaned_data
        owner = data.get("sales_owner")
        return ReportFilters(
            sales_owner_id=owner.pk if owner else None,
            level=data.get("level") or "",
            series=data.get("series") or "",
            month_from=data.get("month_from"),
            month_to=data.get("month_to"),
        )

    def summary_grouping(self) -> str:
        """How the summary below the table is grouped: "group" (集团) or per customer."""
        if not self.is_bound or not self.is_valid():
            return ""
        return self.form.cleaned_data.get("group_by") or ""

    def filter_queryset(self, queryset):
        return selectors.receivable_rows(self.user, filters=self.report_filters(), today=self.today)
