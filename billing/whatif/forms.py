"""Forms of the what-if: customers, months and threshold, plus the candidate as a plan form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from billing.models import PricePlan
from billing.plans.forms import PlanForm
from billing.plans.selectors import plan_terms
from billing.plans.services import plan_terms_check
from billing.pricing import PlanTerms
from customers.models import DeviceSeries
from opcms.months import month_parse

# The candidate's fields carry this prefix so they never clash with the customer filter's.
PLAN_PREFIX = "plan"


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month", "class": "form-control"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return month_parse(value)
        except ValueError:
            raise ValidationError("请按 2025-01 的格式填写月份") from None


class WhatIfForm(forms.Form):
    series = forms.ModelChoiceField(
        label="设备系列",
        queryset=DeviceSeries.objects.filter(is_active=True),
        to_field_name="code",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    month_from = MonthField(label="起始月份")
    month_to = MonthField(label="截止月份")
    threshold = forms.DecimalField(
        label="涨幅超过（%）",
        initial=Decimal("10"),
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "1"}),
    )
    # The customer list's own filter, as its query string (a saved filter or the list's URL).
    customers = forms.CharField(label="客户筛选条件", required=False, widget=forms.HiddenInput)
    ids = forms.TypedMultipleChoiceField(
        label="选中的客户", required=False, coerce=int, widget=forms.MultipleHiddenInput
    )

    def __init__(self, data=None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        # Any id is a valid choice here; scope is applied by the selector (out of scope = none).
        raw = data.getlist("ids") if data is not None and hasattr(data, "getlist") else []
        self.fields["ids"].choices = [(v, v) for v in raw]
        self.plan_form = PlanForm(data, prefix=PLAN_PREFIX)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return self.plan_form.is_valid() and valid

    def clean(self):
        data = super().clean()
        first, last = data.get("month_from"), data.get("month_to")
        if first and last:
            if last < first:
                self.add_error("month_to", "截止月份不能早于起始月份")
            elif (last.year - first.year) * 12 + last.month - first.month >= 36:
                self.add_error("month_to", "一次最多比较 36 个月")
        return data

    def candidate(self) -> tuple[PricePlan, PlanTerms]:
        """The candidate as an unsaved plan and its terms, built exactly as a real plan's."""
        plan = PricePlan(**self.plan_form.plan_data())
        try:
            plan_terms_check(plan=plan)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                field = name if name in self.plan_form.fields else None
                for message in messages:
                    self.plan_form.add_error(field, message)
            raise
        return plan, plan_terms(plan)


class WhatIfApplyForm(forms.Form):
    valid_from = forms.DateField(
        label="新价格生效日期",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
