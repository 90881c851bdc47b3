"""CustomerFilter: the one FilterSet shared by the customer list, exports and the API."""

from __future__ import annotations

import django_filters as df
from django import forms
from django.db.models import Exists, OuterRef, Q, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import User
from accounts.roles import Role

from .models import Customer, DeviceSeries, DictionaryItem, LifecycleStatus, Renewal, Tag
from .selectors import customer_search_q, pk_among, scoped_customers, search_term
from .widgets import RENDERER

YES_NO = (("yes", "是"), ("no", "否"), ("none", "未填"))


def _series_choices():
    return list(DeviceSeries.objects.filter(is_active=True).values_list("code", "name"))


# Choices filled at request time leave drf-spectacular nothing to infer the
# parameter type from (a schema warning, which `check --deploy` fails on).
@extend_schema_field(OpenApiTypes.INT)
class IdChoiceFilter(df.ChoiceFilter):
    """A choice of row ids (dictionary item, user, tag), choices filled per request."""


@extend_schema_field(OpenApiTypes.STR)
class CodeChoiceFilter(df.ChoiceFilter):
    """A choice of codes read from the database (device series)."""


class MultiSelect(forms.SelectMultiple):
    """Multi-select that also takes one plain value (a dict of params, `?level=A`)."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name)
        return [value] if isinstance(value, str | int) else value


class MultiFilter(df.MultipleChoiceFilter):
    """Several values of one column, OR-ed with a plain `IN` (repeat the parameter: ?level=A&level=B).

    django-filter's default ORs Q objects and adds DISTINCT, which PostgreSQL
    refuses next to the pinyin ORDER BY; `IN` needs neither.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultiSelect)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        if self.method is not None:
            return self.method(qs, self.field_name, value)
        return qs.filter(**{f"{self.field_name}__in": list(value)})


@extend_schema_field(OpenApiTypes.INT)
class IdMultiFilter(MultiFilter):
    """Several row ids (dictionary items, users, tags), choices filled per request."""


# Sort keys of the list, the API and exports (?sort=level,-name): one map, so the
# three order alike. Names sort by pinyin (selectors.name_order); pk breaks ties.
SORT_FIELDS: dict[str, tuple[str, ...]] = {
    "company_id": ("company_id",),
    "name": ("name",),
    "account_type": ("account_type__value",),
    "industry": ("industry__value",),
    "erp": ("erp__value",),
    "onboarded_raw": ("onboarded_year", "onboarded_half"),
    "level": ("level",),
    "sales_owner": ("sales_owner__full_name", "sales_owner_raw"),
    "cooperation_note": ("cooperation_note",),
    "lifecycle_status": ("lifecycle_status",),
    "billing_enabled": ("billing_enabled",),
    "disabled": ("disabled",),
    "settlement_method": ("settlement_method",),
    "consumption_level": ("consumption_level",),
    "monthly_avg_shots": ("monthly_avg_shots",),
    "remarks": ("remarks",),
    "created_at": ("created_at",),
    "contract_start": ("cooperation__contract_start",),
    "service_start": ("cooperation__service_start",),
}


def sort_keys(value: str | list[str] | None) -> list[str]:
    """The valid keys of a `sort` value (`level,-name`), unknown ones dropped, order kept."""
    raw = value if isinstance(value, list) else (value or "").split(",")
    keys = []
    for key in (k.strip() for part in raw for k in str(part).split(",")):
        if (
            key
            and key.lstrip("-") in SORT_FIELDS
            and key.lstrip("-") not in {k.lstrip("-") for k in keys}
        ):
            keys.append(key)
    return keys


def sort_order_by(keys: list[str]) -> list:
    """order_by() arguments for sort keys, nulls last either way, pk as the final tie-break."""
    from django.db.models import F

    from .selectors import name_order

    order: list = []
    for key in keys:
        descending = key.startswith("-")
        for lookup in SORT_FIELDS[key.lstrip("-")]:
            if lookup == "name":
                order.append(name_order(descending))
            else:
                order.append(
                    F(lookup).desc(nulls_last=True)
                    if descending
                    else F(lookup).asc(nulls_last=True)
                )
    return [*order, "pk"]


@extend_schema_field(OpenApiTypes.STR)
class SortFilter(df.CharFilter):
    """Multi-column sort: comma-separated keys, `-` for descending (?sort=level,-name)."""

    def filter(self, qs, value):
        keys = sort_keys(value)
        return qs.order_by(*sort_order_by(keys)) if keys else qs


class CustomerFilterForm(forms.Form):
    """The filter form: its widgets render in Python (customers.widgets), same markup."""

    default_renderer = RENDERER


class _FreshFields(dict):
    """A form class's fields that are this request's own: the form needs no deep copy."""

    def __deepcopy__(self, memo):
        return dict(self)


class CustomerFilter(df.FilterSet):
    q = df.CharFilter(label="搜索", method="filter_search")
    # Choice lists are filled once per request in __init__ (plain queries):
    # ModelChoiceFilter would query again to validate and iterate a server-side
    # cursor per dropdown, which costs round trips on every keystroke of search.
    account_type = IdMultiFilter(label="账号类型", field_name="account_type_id")
    industry = IdMultiFilter(label="行业类型", field_name="industry_id")
    erp = IdMultiFilter(label="所属ERP", field_name="erp_id")
    region = IdMultiFilter(label="地区", method="filter_region")
    series = CodeChoiceFilter(label="设备系列", method="filter_series")
    settlement_method = MultiFilter(label="结算方式", choices=Customer.SettlementMethod.choices)
    level = MultiFilter(
        label="客户等级",
        choices=[*Customer.Level.choices, ("none", "未定级")],
        method="filter_level",
    )
    consumption_level = MultiFilter(label="消费等级", choices=Customer.ConsumptionLevel.choices)
    lifecycle_status = MultiFilter(label="生命周期状态", choices=LifecycleStatus.choices)
    sales_owner = IdMultiFilter(label="销售负责人", field_name="sales_owner_id")
    sales_unresolved = df.BooleanFilter(
        label="销售负责人未匹配", method="filter_sales_unresolved", widget=forms.CheckboxInput
    )
    ops_owner = IdMultiFilter(label="运营负责人", method="filter_ops_owner")
    billing_enabled = df.ChoiceFilter(
        label="是否结算",
        choices=[*Customer.BillingEnabled.choices, ("none", "未填")],
        method="filter_billing",
    )
    disabled = df.ChoiceFilter(label="是否停用", choices=YES_NO, method="filter_disabled")
    tag = IdMultiFilter(label="标签", method="filter_tag")
    created = df.DateFromToRangeFilter(
        label="创建日期",
        field_name="created_at__date",
        widget=df.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    contract_start = df.DateFromToRangeFilter(
        label="合作开始时间",
        field_name="cooperation__contract_start",
        widget=df.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    service_start = df.DateFromToRangeFilter(
        label="服务开始时间",
        field_name="cooperation__service_start",
        widget=df.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    onboarded_year = df.NumberFilter(label="接入年份", field_name="onboarded_year")
    renewal_expires = df.DateFromToRangeFilter(
        label="续约到期",
        method="filter_renewal_expires",
        widget=df.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    sort = SortFilter(label="排序", widget=forms.HiddenInput)

    class Meta:
        model = Customer
        fields: list[str] = []
        form = CustomerFilterForm

    # The filters whose choices are rows of the database, filled per request.
    QUERIED_CHOICES = ("account_type", "industry", "erp", "region", "sales_owner", "ops_owner")
    QUERIED_CHOICES += ("tag", "series")

    def __init__(self, *args, user=None, form_shown=True, **kwargs):
        """`form_shown=False` (the search box's results fragment, which draws no form):
        the queried choice lists are read only for the filters the request sets, which
        is all validation needs; an unset filter's empty list is never shown."""
        super().__init__(*args, **kwargs)
        self.user = user or getattr(self.request, "user", None)
        wanted = {
            name
            for name in self.QUERIED_CHOICES
            if form_shown or (self.data is not None and name in self.data)
        }
        for name, values in self._queried_choices(wanted).items():
            self.filters[name].extra["choices"] = values
        for filter_ in self.filters.values():
            if isinstance(filter_, df.ChoiceFilter):
                filter_.extra["empty_label"] = "全部"
        for field in self.form.fields.values():
            widget = field.widget
            if isinstance(widget, forms.SelectMultiple):
                widget.attrs["class"] = "form-select form-select-sm multi-select"
                widget.attrs["size"] = min(4, max(2, len(field.choices)))
            elif isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            elif isinstance(widget, forms.MultiWidget):
                for sub in widget.widgets:
                    sub.attrs["class"] = "form-control form-control-sm"
            else:
                widget.attrs["class"] = "form-control form-control-sm"

    def _queried_choices(self, wanted: set[str]) -> dict[str, list]:
        """The choice lists of the `wanted` filters of QUERIED_CHOICES; the others empty."""
        choices: dict[str, list] = dict.fromkeys(self.QUERIED_CHOICES, [])
        kinds = {
            "account_type": DictionaryItem.Kind.ACCOUNT_TYPE,
            "industry": DictionaryItem.Kind.INDUSTRY,
            "erp": DictionaryItem.Kind.ERP,
            "region": DictionaryItem.Kind.REGION,
        }
        if wanted & kinds.keys():
            dictionary: dict[str, list] = {kind: [] for kind in DictionaryItem.Kind.values}
            for pk, kind, value in DictionaryItem.objects.values_list("pk", "kind", "value"):
                dictionary[kind].append((str(pk), value))
            choices |= {name: dictionary[kind] for name, kind in kinds.items()}
        if wanted & {"sales_owner", "ops_owner"}:
            people: dict[str, list] = {Role.SALES: [], Role.OPS: []}
            for pk, role, name, username in (
                User.objects.filter(is_active=True, role__in=[Role.SALES, Role.OPS])
                .order_by("full_name", "username")
                .values_list("pk", "role", "full_name", "username")
            ):
                people[role].append((str(pk), name or username))
            choices |= {"sales_owner": people[Role.SALES], "ops_owner": people[Role.OPS]}
        if "tag" in wanted:
            # Only tags on the customers being filtered (always a scoped queryset): a
            # tag used only on others' customers would tell the user it exists. One
            # customer of each tag, found by a LIMIT 1 subquery per tag: as EXISTS,
            # PostgreSQL hashed every customer in scope first (35-69 ms at 100,000 for
            # a page that shows one row; 0.1 ms this way, EXPLAIN ANALYZE).
            choices["tag"] = [
                (str(pk), name)
                for pk, name in Tag.objects.alias(
                    one_customer=Subquery(
                        self.queryset.order_by().filter(tags=OuterRef("pk")).values("pk")[:1]
                    )
                )
                .filter(one_customer__isnull=False)
                .values_list("pk", "name")
            ]
        if "series" in wanted:
            choices["series"] = _series_choices()
        return choices

    def get_form_class(self):
        # django-filter builds the form class per FilterSet from this request's deep-copied
        # filters, so its fields are already fresh: Form.__init__'s second deep copy of
        # every field and choice list is skipped.
        form_class = super().get_form_class()
        form_class.base_fields = _FreshFields(form_class.base_fields)
        return form_class

    def filter_search(self, queryset, name, value):
        if not search_term(value):
            return queryset
        from .fieldpolicy import Field, can_see

        include_phone = self.user is None or can_see(self.user, Field.CONTACT_PHONE)
        return queryset.filter(customer_search_q(value, include_phone=include_phone))

    def filter_series(self, queryset, name, value):
        # A customer of a series is one with a price plan of it: the plans point at
        # DeviceSeries (this app's dictionary) through the `price_plans` relation.
        return queryset.filter(
            Exists(DeviceSeries.objects.filter(code=value, price_plans__customer=OuterRef("pk")))
        )

    def filter_level(self, queryset, name, value):
        levels = [v for v in value if v != "none"]
        condition = Q(level__in=levels)
        if "none" in value:
            condition |= Q(level="")
        return queryset.filter(condition)

    def filter_region(self, queryset, name, value):
        through = Customer.regions.through
        return queryset.filter(
            pk_among(through.objects.filter(dictionaryitem_id__in=value).values("customer_id"))
        )

    def filter_sales_unresolved(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(sales_owner__isnull=True).exclude(sales_owner_raw="")

    def filter_ops_owner(self, queryset, name, value):
        through = Customer.ops_owners.through
        return queryset.filter(
            pk_among(through.objects.filter(user_id__in=value).values("customer_id"))
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
        # The customers of a tag, region or ops owner by their ids (pk_among), not EXISTS:
        # a tag on 10,000 of 100,000 customers counted in 10 ms instead of 20.
        through = Customer.tags.through
        return queryset.filter(
            pk_among(through.objects.filter(tag_id__in=value).values("customer_id"))
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


def _customers_in_scope(request):
    return scoped_customers(getattr(request, "user", None))


class ScopedCustomerFilterSet(df.FilterSet):
    """`?customer=<id>` chooses among the caller's customers only: an id out of scope
    answers exactly as a missing one does, so the filter reveals nothing."""

    customer = df.ModelChoiceFilter(queryset=_customers_in_scope, label="客户")
