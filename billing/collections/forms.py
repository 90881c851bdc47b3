"""Forms of the collections desk: a contact (with an optional promise), the statement, a period."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from billing.models import CollectionContact
from opcms.months import month_shift

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContactForm(forms.Form):
    channel = forms.ChoiceField(label="跟进方式", choices=CollectionContact.Channel.choices)
    outcome = forms.ChoiceField(
        label="结果",
        choices=[c for c in CollectionContact.Outcome.choices if c[0] != "statement_sent"],
    )
    note = forms.CharField(
        label="备注", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    promise_amount = forms.DecimalField(
        label="承诺付款金额", max_digits=14, decimal_places=2, required=False, min_value=0.01
    )
    promise_date = forms.DateField(label="承诺付款日期", required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        amount, day = data.get("promise_amount"), data.get("promise_date")
        if (amount is None) != (day is None) and not self.errors:
            missing = "promise_date" if day is None else "promise_amount"
            self.add_error(missing, "登记付款承诺需要同时填写金额和日期")
        if data.get("outcome") == "promised" and amount is None and day is None:
            self.add_error("promise_amount", "结果为“承诺付款”时请填写承诺金额和日期")
        return data


class StatementSendForm(forms.Form):
    date_from = forms.DateField(label="对账开始日期", widget=DATE)
    date_to = forms.DateField(label="对账截止日期", widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.initial.setdefault("date_from", month_shift(today.replace(day=1), -11))
        self.initial.setdefault("date_to", today)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "截止日期不能早于开始日期")
        return data


class PeriodForm(forms.Form):
    """The period of the 24-hour measure: the days customers became overdue."""

    date_from = forms.DateField(label="新增逾期日期从", required=False, widget=DATE)
    date_to = forms.DateField(label="至", required=False, widget=DATE)

    def period(self):
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or date_to - timedelta(days=29)
        if date_from > date_to:
            date_from, date_to = date_to, date_from
        return date_from, date_to
