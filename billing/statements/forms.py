"""The statement (对账单) requests: a month range, for a customer or a group."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from billing.payments.forms import CustomerByCompanyIdField
from opcms.months import month_end, month_start


class MonthRangeForm(forms.Form):
    start = forms.DateField(
        label="起始月份",
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    end = forms.DateField(
        label="截止月份",
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        this_month = timezone.localdate().strftime("%Y-%m")
        self.initial.setdefault("start", this_month)
        self.initial.setdefault("end", this_month)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                self.add_error("end", "截止月份不能早于起始月份")
            else:
                data["date_from"] = month_start(data["start"])
                data["date_to"] = month_end(data["end"])
        return data


class StatementForm(MonthRangeForm):
    customer = CustomerByCompanyIdField(label="客户（公司id）")
    field_order = ["customer", "start", "end"]

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].customers = customers


class GroupStatementForm(MonthRangeForm):
    """The month range of a group statement (集团对账单)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
