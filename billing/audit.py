"""Billing models recorded by django-auditlog."""

from auditlog.registry import auditlog

from .models import Bill, BillLine, Payment, PaymentAllocation, PricePlan, UsageRecord

for model in (PricePlan, UsageRecord, Bill, BillLine, Payment, PaymentAllocation):
    auditlog.register(model)
