"""Forms of the bill pages: month filter, generation, issue for a period, manual lines, reasons."""

from __future__ import annotations

from datetime import date

from django import forms

from billing.models import Bill


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
            year, month = (int(x) for x in value.split("-")[:2])
            return date(year, month, 1)
        except ValueError:
            raise forms.ValidationError("月份格式应为 YYYY-MM，如 2025-10") from None


class BillFilterForm(forms.Form):
    period = MonthField(label="账期", required=False)
    status = forms.ChoiceField(
        label="状态",
        required=False,
        # 逾期 is derived (billing.selectors.overdue_q), offered beside the stored statuses.
        choices=[("", "全部状态"), *Bill.Status.choices, ("overdue", "逾期")],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = forms.CharField(
        label="客户",
        required=False,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": "公司名称、公司id或账单号"}
        ),
    )
    anomalies = forms.BooleanField(
        label="只看异常",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class GenerateForm(forms.Form):
    period = MonthField(label="账期")
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
