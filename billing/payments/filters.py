"""The payment list's one FilterSet: the 收款 page, its htmx fragment and GET /api/payments/."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import F, Q

from billing.models import Payment
from customers.filters import ScopedCustomerFilterSet
from customers.selectors import parse_id, search_term


class PaymentFilter(ScopedCustomerFilterSet):
    q = django_filters.CharFilter(method="filter_q", label="客户名称、公司id、流水号或付款人")
    open = django_filters.BooleanFilter(
        method="filter_open", widget=forms.CheckboxInput, label="只看未核销完"
    )
    company_id = django_filters.NumberFilter(field_name="customer__company_id", label="公司id")
    received_from = django_filters.DateFilter(
        field_name="received_on", lookup_expr="gte", label="收款日期起"
    )
    received_to = django_filters.DateFilter(
        field_name="received_on", lookup_expr="lte", label="收款日期止"
    )

    class Meta:
        model = Payment
        fields = ["method", "bank_ref"]

    def filter_q(self, queryset, name, value):
        value = search_term(value)
        if not value:
            return queryset
        cond = Q(customer__name__ilike_contains=value) | Q(bank_ref__icontains=value)
        cond |= Q(payer__icontains=value)
        if (number := parse_id(value)) is not None:
            cond |= Q(customer__company_id=number)
        return queryset.filter(cond)

    def filter_open(self, queryset, name, value):
        return queryset.filter(allocated__lt=F("amount")) if value else queryset
