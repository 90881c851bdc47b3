"""FilterSets of the accounts lists: the audit log and background jobs (page and API share them)."""

from __future__ import annotations

import django_filters as df
from auditlog.models import LogEntry
from django import forms
from django.contrib.contenttypes.models import ContentType

from .models import Job, User
from .tables import ACTION_CHOICES

AUDITED_APPS = ["accounts", "customers", "billing"]


def _style(filterset: df.FilterSet) -> None:
    """Bootstrap classes on every widget, as the customer list's filter has them."""
    for field in filterset.form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select form-select-sm"
        else:
            widget.attrs["class"] = "form-control form-control-sm"


class ContentTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ContentType) -> str:
        model = obj.model_class()
        return str(model._meta.verbose_name) if model else obj.model


class ContentTypeFilter(df.ModelChoiceFilter):
    field_class = ContentTypeChoiceField


class AuditFilter(df.FilterSet):
    actor = df.ModelChoiceFilter(
        label="操作人", queryset=User.objects.order_by("username"), empty_label="全部"
    )
    content_type = ContentTypeFilter(
        label="对象类型",
        queryset=ContentType.objects.filter(app_label__in=AUDITED_APPS).order_by(
            "app_label", "model"
        ),
        empty_label="全部",
    )
    action = df.ChoiceFilter(label="操作", choices=ACTION_CHOICES, empty_label="全部")
    date_from = df.DateFilter(
        label="开始日期",
        field_name="timestamp__date",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = df.DateFilter(
        label="结束日期",
        field_name="timestamp__date",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = df.CharFilter(label="对象", field_name="object_repr", lookup_expr="icontains")

    class Meta:
        model = LogEntry
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class JobFilter(df.FilterSet):
    status = df.ChoiceFilter(label="状态", choices=Job.Status.choices, empty_label="全部")
    kind = df.CharFilter(label="类型")

    class Meta:
        model = Job
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
