"""Forms of the close page: the month, reasons, the gate to override, customers with no usage."""

from __future__ import annotations

from django import forms

from billing.close.selectors import GATES
from opcms.months import month_parse


class MonthField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return month_parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class PeriodForm(forms.Form):
    period = MonthField(label="账期月份")


class PeriodReasonForm(PeriodForm):
    reason = forms.CharField(label="原因", max_length=200)


class GateOverrideForm(PeriodReasonForm):
    gate = forms.ChoiceField(label="检查项", choices=list(GATES.items()))


class NoUsageForm(PeriodForm):
    customers = forms.TypedMultipleChoiceField(label="客户", coerce=int, choices=())
    reason = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, customer_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].choices = [(pk, pk) for pk in customer_ids]


class AcknowledgeForm(forms.Form):
    reason = forms.CharField(label="确认原因", max_length=200)
    index = forms.IntegerField(required=False, min_value=0)


class ExportForm(PeriodForm):
    fmt = forms.ChoiceField(choices=[("xlsx", "xlsx"), ("csv", "csv")], initial="xlsx")
