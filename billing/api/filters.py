"""Filters of the billing API lists (bills, payments, usage, price plans)."""

import django_filters
from django.db.models import Q

from billing.models import Bill, Payment, PricePlan, UsageRecord
from customers.selectors import scoped_customers


def _customers_in_scope(request):
    return scoped_customers(getattr(request, "user", None))


class ScopedCustomerFilterSet(django_filters.FilterSet):
    """`?customer=<id>` chooses among the caller's customers only: an id out of scope
    answers exactly as a missing one does, so the filter reveals nothing."""

    customer = django_filters.ModelChoiceFilter(queryset=_customers_in_scope, label="客户")


class PricePlanFilter(ScopedCustomerFilterSet):
    company_id = django_filters.NumberFilter(field_name="customer__company_id", label="公司id")
    series = django_filters.CharFilter(field_name="series__code", label="设备系列代码")
    in_force_on = django_filters.DateFilter(method="filter_in_force_on", label="在该日生效")

    class Meta:
        model = PricePlan
        fields = ["customer", "kind"]

    def filter_in_force_on(self, queryset, name, value):
        return queryset.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=value),
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=value))


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
        fields = ["customer", "source", "source_ref"]


class BillFilter(ScopedCustomerFilterSet):
    company_id = django_filters.NumberFilter(field_name="customer__company_id", label="公司id")
    period = django_filters.DateFilter(field_name="period", label="账期月份（当月第一天）")
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte", label="账期起")
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte", label="账期止")

    class Meta:
        model = Bill
        fields = ["customer", "status", "kind", "number"]


class PaymentFilter(ScopedCustomerFilterSet):
    company_id = django_filters.NumberFilter(field_name="customer__company_id", label="公司id")
    received_from = django_filters.DateFilter(
        field_name="received_on", lookup_expr="gte", label="收款日期起"
    )
    received_to = django_filters.DateFilter(
        field_name="received_on", lookup_expr="lte", label="收款日期止"
    )

    class Meta:
        model = Payment
        fields = ["customer", "method", "bank_ref"]
