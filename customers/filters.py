"""CustomerFilter: the one FilterSet shared by the customer list, exports and the API."""

from __future__ import annotations

import django_filters as df
from django import forms
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import User
from accounts.roles import Role

from .models import Customer, DictionaryItem, LifecycleStatus, Renewal, Tag
from .selectors import customer_search_q, search_term

YES_NO = (("yes", "是"), ("no", "否"), ("none", "未填"))


def _series_choices():
    # Device series live in billing, which customers must not import; reach the
    # model through the reverse relation `price_plans` instead.
    try:
        plan_model = Customer._meta.get_field("price_plans").related_model
    except Exception:  # noqa: BLE001 - billing not installed
        return []
    series_model = plan_model._meta.get_field("series").related_model
    return list(series_model.objects.filter(is_active=True).values_list("code", "name"))


# Choices filled at request time leave drf-spectacular nothing to infer the
# parameter type from (a schema warning, which `check --deploy` fails on).
@extend_schema_field(OpenApiTypes.INT)
class IdChoiceFilter(df.ChoiceFilter):
    """A choice of row ids (dictionary item, user, tag), choices filled per request."""


@extend_schema_field(OpenApiTypes.STR)
class CodeChoiceFilter(df.ChoiceFilter):
    """A choice of codes read from the database (device series)."""


class CustomerFilter(df.FilterSet):
    q = df.CharFilter(label="搜索", method="filter_search")
    # Choice lists are filled once per request in __init__ (plain queries):
    # ModelChoiceFilter would query again to validate and iterate a server-side
    # cursor per dropdown, which costs round trips on every keystroke of search.
    account_type = IdChoiceFilter(label="账号类型", field_name="account_type_id")
    industry = IdChoiceFilter(label="行业类型", field_name="industry_id")
    erp = IdChoiceFilter(label="所属ERP", field_name="erp_id")
    series = CodeChoiceFilter(label="设备系列", choices=_series_choices, method="filter_series")
    settlement_method = df.ChoiceFilter(label="结算方式", choices=Customer.SettlementMethod.choices)
    level = df.ChoiceFilter(
        label="客户等级",
        choices=[*Customer.Level.choices, ("none", "未定级")],
        method="filter_level",
    )
    consumption_level = df.ChoiceFilter(label="消费等级", choices=Customer.ConsumptionLevel.choices)
    lifecycle_status = df.ChoiceFilter(label="生命周期状态", choices=LifecycleStatus.choices)
    sales_owner = IdChoiceFilter(label="销售负责人", field_name="sales_owner_id")
    sales_unresolved = df.BooleanFilter(
        label="销售负责人未匹配", method="filter_sales_unresolved", widget=forms.CheckboxInput
    )
    ops_owner = IdChoiceFilter(label="运营负责人", method="filter_ops_owner")
    billing_enabled = df.ChoiceFilter(
        label="是否结算",
        choices=[*Customer.BillingEnabled.choices, ("none", "未填")],
        method="filter_billing",
    )
    disabled = df.ChoiceFilter(label="是否停用", choices=YES_NO, method="filter_disabled")
    tag = IdChoiceFilter(label="标签", method="filter_tag")
    created = df.DateFromToRangeFilter(
        label="创建日期",
        field_name="created_at__date",
        widget=df.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    onboarded_year = df.NumberFilter(label="接入年份", field_name="onboarded_year")
    renewal_expires = df.DateFromToRangeFilter(
        label="续约到期",
        method="filter_renewal_expires",
        widget=df.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        dictionary: dict[str, list] = {kind: [] for kind in DictionaryItem.Kind.values}
        for pk, kind, value in DictionaryItem.objects.values_list("pk", "kind", "value"):
            dictionary[kind].append((str(pk), value))
        people: dict[str, list] = {Role.SALES: [], Role.OPS: []}
        for pk, role, name, username in (
            User.objects.filter(is_active=True, role__in=[Role.SALES, Role.OPS])
            .order_by("full_name", "username")
            .values_list("pk", "role", "full_name", "username")
        ):
            people[role].append((str(pk), name or username))
        choices = {
            "account_type": dictionary[DictionaryItem.Kind.ACCOUNT_TYPE],
            "industry": dictionary[DictionaryItem.Kind.INDUSTRY],
            "erp": dictionary[DictionaryItem.Kind.ERP],
            "sales_owner": people[Role.SALES],
            "ops_owner": people[Role.OPS],
            # Only tags on the customers being filtered (always a scoped queryset): a
            # tag used only on others' customers would tell the user it exists.
            "tag": [
                (str(pk), name)
                for pk, name in Tag.objects.filter(
                    Exists(
                        Customer.tags.through.objects.filter(
                            tag_id=OuterRef("pk"),
                            customer_id__in=self.queryset.order_by().values("pk"),
                        )
                    )
                ).values_list("pk", "name")
            ],
        }
        for name, values in choices.items():
            self.filters[name].extra["choices"] = values
        for filter_ in self.filters.values():
            if isinstance(filter_, df.ChoiceFilter):
                filter_.extra["empty_label"] = "全部"
        for field in self.form.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            elif isinstance(widget, forms.MultiWidget):
                for sub in widget.widgets:
                    sub.attrs["class"] = "form-control form-control-sm"
            else:
                widget.attrs["class"] = "form-control form-control-sm"

    def filter_search(self, queryset, name, value):
        return queryset.filter(customer_search_q(value)) if search_term(value) else queryset

    def filter_series(self, queryset, name, value):
        plan_model = Customer._meta.get_field("price_plans").related_model
        return queryset.filter(
            Exists(plan_model.objects.filter(customer_id=OuterRef("pk"), series__code=value))
        )

    def filter_level(self, queryset, name, value):
        return queryset.filter(level="") if value == "none" else queryset.filter(level=value)

    def filter_sales_unresolved(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(sales_owner__isnull=True).exclude(sales_owner_raw="")

    def filter_ops_owner(self, queryset, name, value):
        through = Customer.ops_owners.through
        return queryset.filter(
            Exists(through.objects.filter(customer_id=OuterRef("pk"), user_id=value))
        )

    def filter_billing(self, queryset, name, value):
        return queryset.filter(billing_enabled="" if value == "none" else value)

    def filter_disabled(self, queryset, name, value):
        mapping = {
            "yes": Q(disabled=True),
            "no": Q(disabled=False),
            "none": Q(disabled__isnull=True),
        }
        return queryset.filter(mapping[value])

    def filter_tag(self, queryset, name, value):
        through = Customer.tags.through
        return queryset.filter(
            Exists(through.objects.filter(customer_id=OuterRef("pk"), tag_id=value))
        )

    def filter_renewal_expires(self, queryset, name, value):
        if not value or (value.start is None and value.stop is None):
            return queryset
        renewals = Renewal.objects.filter(customer_id=OuterRef("pk"))
        if value.start:
            renewals = renewals.filter(expires_on__gte=value.start)
        if value.stop:
            renewals = renewals.filter(expires_on__lte=value.stop)
        return queryset.filter(Exists(renewals))
