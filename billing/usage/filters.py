"""The usage list's FilterSet (GET /api/usage/)."""

import django_filters

from billing.models import UsageRecord
from customers.filters import ScopedCustomerFilterSet


class UsageFilter(ScopedCustomerFilterSet):
    company_id = django_filters.NumberFilter(field_name="customer__company_id", label="公司id")
    series = django_filters.CharFilter(field_name="series__code", label="设备系列代码")
    shot_date_from = django_filters.DateFilter(
        field_name="shot_date", lookup_expr="gte", label="拍摄日期起"
    )
    shot_date_to = django_filters.DateFilter(
        field_name="shot_date", lookup_expr="lte", label="拍摄日期止"
    )

    class Meta:
        model = UsageRecord
        fields = ["source", "source_ref"]
