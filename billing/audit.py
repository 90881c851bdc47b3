"""Billing models recorded by django-auditlog."""

from auditlog.registry import auditlog

from .models import Bill, BillLine, DeviceSeries, Payment, PaymentAllocation, PricePlan, UsageRecord

for model in (DeviceSeries, PricePlan, UsageRecord, Bill, BillLine, Payment, PaymentAllocation):
    auditlog.register(model)
