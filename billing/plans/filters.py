"""The price plan list's FilterSet (GET /api/price-plans/)."""

import django_filters
from django.db.models import Q

from billing.models import PricePlan
from customers.filters import ScopedCustomerFilterSet


class PricePlanFilter(ScopedCustomerFilterSet):
    company_id = django_filters.NumberFilter(field_name="customer__company_id", label="公司id")
    series = django_filters.CharFilter(field_name="series__code", label="设备系列代码")
    in_force_on = django_filters.DateFilter(method="filter_in_force_on", label="在该日生效")

    class Meta:
        model = PricePlan
        fields = ["kind"]

    def filter_in_force_on(self, queryset, name, value):
        return queryset.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=value),
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=value))
