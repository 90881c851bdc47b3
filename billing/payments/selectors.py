"""Reads of payments and allocations (核销), each starting from the caller's customers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from billing.models import Payment, PaymentAllocation
from customers.selectors import scoped_customers


def scoped_payments(user: Any) -> QuerySet[Payment]:
    return Payment.objects.filter(customer__in=scoped_customers(user)).select_related("customer")


def scoped_allocations(user: Any) -> QuerySet[PaymentAllocation]:
    return PaymentAllocation.objects.filter(
        bill__customer__in=scoped_customers(user)
    ).select_related("bill", "payment", "bill__customer")


def company_id_options(user):
    """Suggestions for the 公司id inputs (a datalist); the field still resolves inside the scope."""
    return scoped_customers(user).values("company_id", "name").order_by("company_id")[:1000]
