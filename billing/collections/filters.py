"""The desk's one FilterSet (page and its htmx fragment): search, salesperson, follow-up state."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from accounts.models import User
from customers.models import Customer


class DeskFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="客户名称或公司id")
    owner = django_filters.ModelChoiceFilter(
        field_name="sales_owner", queryset=User.objects.none(), label="销售"
    )
    broken = django_filters.BooleanFilter(
        method="filter_broken", widget=forms.CheckboxInput, label="只看有违约承诺"
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.filters["owner"].queryset = owners

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        cond = Q(name__ilike_contains=value)  # the name's trigram index (opcms/lookups.py)
        if value.isdigit():
            cond |= Q(company_id=int(value))
        return queryset.filter(cond)

    def filter_broken(self, queryset, name, value):
        return queryset.filter(broken_promise_date__isnull=False) if value else queryset
