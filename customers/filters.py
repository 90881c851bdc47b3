"""STAND-IN (issue 8): the customer FilterSet shared by list, export and API."""

import django_filters
from django.db.models import Q

from .models import Customer


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="搜索", method="filter_q")

    class Meta:
        model = Customer
        fields = [
            "level",
            "lifecycle_status",
            "settlement_method",
            "billing_enabled",
            "sales_owner",
        ]

    def filter_q(self, queryset, name, value):
        condition = Q(name__icontains=value)
        if value.strip().isdigit():
            condition |= Q(company_id=int(value.strip()))
        return queryset.filter(condition)
