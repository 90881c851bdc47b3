"""The bill list's one FilterSet: the 账单 page, its htmx fragment and GET /api/bills/ share it."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from billing.bills.selectors import (
    assessed_after_due_q,
    corrected_q,
    ever_issued_q,
    overdue_q,
    unpaid_after_due,
)
from billing.models import Bill
from customers.filters import ScopedCustomerFilterSet
from customers.selectors import parse_id, search_term

# A month field sends "2025-10"; the API documents the first day, "2025-10-01".
MONTH_FORMATS = ["%Y-%m-%d", "%Y-%m"]


class BillFilter(ScopedCustomerFilterSet):
    q = django_filters.CharFilter(method="filter_q", label="客户（公司名称、公司id或账单号）")
    company_id = django_filters.NumberFilter(field_name="customer__company_id", label="公司id")
    period = django_filters.DateFilter(
        method="filter_period", input_formats=MONTH_FORMATS, label="账期月份（当月第一天）"
    )
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte", label="账期起")
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte", label="账期止")
    status = django_filters.ChoiceFilter(
        method="filter_status",
        # 逾期 is derived (billing.bills.selectors.overdue_q), offered beside the stored statuses.
        choices=[*Bill.Status.choices, ("overdue", "逾期"), ("issued_ever", "出过账（含已冲正）")],
        empty_label="全部状态",
        label="状态",
    )
    anomalies = django_filters.BooleanFilter(
        method="filter_anomalies", widget=forms.CheckboxInput, label="只看异常"
    )
    # The scorecard's drill-downs (reports:scorecard): the same definitions as its figures.
    assessed_days = django_filters.NumberFilter(
        method="filter_assessed_days", min_value=0, max_value=3650, label="到期已满天数"
    )
    unpaid_days = django_filters.NumberFilter(
        method="filter_unpaid_days", min_value=0, max_value=3650, label="到期后仍未结清天数"
    )
    corrected = django_filters.BooleanFilter(
        method="filter_corrected", widget=forms.CheckboxInput, label="只看手工调整或冲正"
    )

    class Meta:
        model = Bill
        fields = ["kind", "number"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The 账单 page draws these three as Bootstrap controls, label above each.
        fields = self.form.fields
        fields["status"].widget.attrs["class"] = "form-select"
        fields["q"].widget.attrs.update(
            {"class": "form-control", "placeholder": "名称、公司id或账单号"}
        )
        fields["anomalies"].widget.attrs["class"] = "form-check-input"

    def filter_q(self, queryset, name, value):
        value = search_term(value)
        if not value:
            return queryset
        condition = Q(customer__name__ilike_contains=value) | Q(number__icontains=value)
        if (number := parse_id(value)) is not None:
            condition |= Q(customer__company_id=number)
        return queryset.filter(condition)

    def filter_period(self, queryset, name, value):
        return queryset.filter(period=value.replace(day=1))

    def filter_status(self, queryset, name, value):
        if value == "overdue":
            return queryset.filter(overdue_q(timezone.localdate()))
        if value == "issued_ever":
            return queryset.filter(ever_issued_q())
        return queryset.filter(status=value)

    def filter_anomalies(self, queryset, name, value):
        return queryset.exclude(anomalies=[]) if value else queryset

    def filter_assessed_days(self, queryset, name, value):
        return queryset.filter(assessed_after_due_q(int(value), today=timezone.localdate()))

    def filter_unpaid_days(self, queryset, name, value):
        return unpaid_after_due(queryset, int(value), today=timezone.localdate())

    def filter_corrected(self, queryset, name, value):
        return queryset.filter(corrected_q()) if value else queryset
