"""Forms of the bill pages: month filter, generation, issue for a period, manual lines, reasons."""

from __future__ import annotations

from datetime import date

from django import forms

from opcms.months import month_parse


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200)


class ManualLineForm(forms.Form):
    amount = forms.DecimalField(
        label="金额", max_digits=14, decimal_places=2, help_text="负数为减免"
    )
    explanation = forms.CharField(label="说明", max_length=200, required=False)
    reason = forms.CharField(label="调整原因", max_length=200)


class IssuePeriodForm(forms.Form):
    period = forms.DateField(
        label="账期月份",
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}),
    )

    def clean_period(self) -> date:
        return self.cleaned_data["period"].replace(day=1)


class MonthField(forms.CharField):
    """A month as YYYY-MM (the browser's <input type=month>), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month", "class": "form-control"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return month_parse(value)
        except ValueError:
            raise forms.ValidationError("月份格式应为 YYYY-MM，如 2025-10") from None


class GenerateForm(forms.Form):
    period = MonthField(label="账期")
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
