"""Forms of payments: record a payment, allocate it, upload bank receipts."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.utils import timezone

from billing.models import Bill, Payment
from billing.money import format_money
from opcms.spreadsheets import SpreadsheetFileField

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CustomerByCompanyIdField(forms.IntegerField):
    """A customer picked by 公司id, resolved only inside the user's scope."""

    def __init__(self, *args, customers=None, **kwargs):
        self.customers = customers
        super().__init__(*args, **kwargs)

    def clean(self, value):
        company_id = super().clean(value)
        if company_id is None:
            return None
        customer = self.customers.filter(company_id=company_id).first()
        if customer is None:
            raise forms.ValidationError(f"公司id {company_id} 不存在或不在你的客户范围内")
        return customer


class PaymentForm(forms.Form):
    customer = CustomerByCompanyIdField(
        label="客户（公司id）", widget=forms.TextInput(attrs={"list": "customer-options"})
    )
    amount = forms.DecimalField(
        label="金额", max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    received_on = forms.DateField(label="收款日期", widget=DATE_WIDGET)
    method = forms.ChoiceField(
        label="方式", choices=Payment.Method.choices, initial=Payment.Method.BANK
    )
    bank_ref = forms.CharField(label="银行流水号", max_length=100, required=False)
    payer = forms.CharField(label="付款人", max_length=200, required=False)
    note = forms.CharField(label="备注", max_length=500, required=False)
    # A fresh key per rendered form: a double click or a resubmit carries the same one.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].customers = customers
        self.fields["idempotency_key"].initial = uuid.uuid4().hex
        self.fields["received_on"].initial = timezone.localdate()


class AllocationForm(forms.Form):
    """One amount input per open bill of the payment's customer (`bill_<pk>`)."""

    def __init__(self, *args, bills: list[Bill], **kwargs):
        super().__init__(*args, **kwargs)
        self.bills = bills
        for bill in bills:
            self.fields[f"bill_{bill.pk}"] = forms.DecimalField(
                label=bill.number,
                required=False,
                max_digits=14,
                decimal_places=2,
                min_value=Decimal("0"),
                max_value=bill.balance,
                error_messages={"max_value": f"不能超过未收余额 {format_money(bill.balance)}"},
            )

    def allocations(self) -> list[tuple[Bill, Decimal]]:
        result = []
        for bill in self.bills:
            amount = self.cleaned_data.get(f"bill_{bill.pk}")
            if amount:
                result.append((bill, amount))
        return result

    def rows(self):
        return [(bill, self[f"bill_{bill.pk}"]) for bill in self.bills]


class ReceiptImportForm(forms.Form):
    file = SpreadsheetFileField(label="银行收款文件（.xlsx / .csv）")
