from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from accounts.models import User
from customers.models import Customer, DeviceSeries
from customers.selectors import scoped_customers
from opcms.months import month_parse, month_start

from .selectors import ReportFilters

MONTH_WIDGET = forms.DateInput(attrs={"type": "month", "class": "form-control"}, format="%Y-%m")


class MonthField(forms.DateField):
    widget = MONTH_WIDGET

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m", "%Y-%m-%d"])
        kwargs.setdefault("error_messages", {"invalid": "请输入月份，格式如 2025-10。"})
        super().__init__(**kwargs)

    def to_python(self, value: Any):
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return month_start(value)
        try:
            return month_parse(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class ReportFilterForm(forms.Form):
    sales_owner = forms.ModelChoiceField(
        label="销售负责人", queryset=User.objects.none(), required=False, empty_label="全部"
    )
    level = forms.ChoiceField(
        label="客户等级", choices=[("", "全部"), *Customer.Level.choices], required=False
    )
    series = forms.ChoiceField(label="设备系列", choices=[("", "全部")], required=False)
    month_from = MonthField(label="起始月份", required=False)
    month_to = MonthField(label="结束月份", required=False)

    def __init__(self, *args: Any, user: Any, with_series: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only owners of customers the user can see: a sales user sees just themself.
        self.fields["sales_owner"].queryset = User.objects.filter(
            pk__in=scoped_customers(user).values("sales_owner_id")
        ).order_by("full_name", "username")
        self.fields["sales_owner"].label_from_instance = lambda u: u.display_name
        if with_series:
            self.fields["series"].choices = [
                ("", "全部"),
                *DeviceSeries.objects.values_list("code", "name"),
            ]
        else:
            del self.fields["series"]
        for name, field in self.fields.items():
            if name not in ("month_from", "month_to"):
                field.widget.attrs.setdefault("class", "form-select")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("month_from"), data.get("month_to")
        if start and end and start > end:
            self.add_error("month_to", "结束月份不能早于起始月份。")
        return data

    def report_filters(self) -> ReportFilters:
        """The filters to apply; an invalid form narrows nothing (its errors are shown)."""
        if not self.is_valid():
            return ReportFilters()
        data = self.cleaned_data
        owner = data.get("sales_owner")
        return ReportFilters(
            sales_owner_id=owner.pk if owner else None,
            level=data.get("level") or "",
            series=data.get("series") or "",
            month_from=data.get("month_from"),
            month_to=data.get("month_to"),
        )


class MonthForm(forms.Form):
    month = MonthField(label="结算月份", required=False)
