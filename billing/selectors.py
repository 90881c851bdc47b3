"""Reads for billing: bills and payments, always through the customer scope."""

from __future__ import annotations

# --- issue 6: lifecycle, payments and reconciliation ------------------------
from datetime import date
from typing import Any

from django.db.models import F, Q, QuerySet

from customers.selectors import scoped_customers

from .models import Bill, Payment, PaymentAllocation

OPEN_STATUSES = (Bill.Status.ISSUED, Bill.Status.PARTIALLY_PAID)


def overdue_q(today: date, *, prefix: str = "") -> Q:
    """Overdue is derived, never stored: open, past its due date, something still owed."""
    return Q(
        **{
            f"{prefix}kind": Bill.Kind.BILL,
            f"{prefix}status__in": OPEN_STATUSES,
            f"{prefix}due_date__lt": today,
            f"{prefix}total__gt": F(f"{prefix}amount_paid"),
        }
    )


def scoped_bills(user: Any) -> QuerySet[Bill]:
    return Bill.objects.filter(customer__in=scoped_customers(user)).select_related("customer")


def scoped_payments(user: Any) -> QuerySet[Payment]:
    return Payment.objects.filter(customer__in=scoped_customers(user)).select_related("customer")


def scoped_allocations(user: Any) -> QuerySet[PaymentAllocation]:
    return PaymentAllocation.objects.filter(
        bill__customer__in=scoped_customers(user)
    ).select_related("bill", "payment", "bill__customer")


def bills_open_for_customer(customer: Any) -> QuerySet[Bill]:
    """Bills that can still take money, oldest first (the order oldest-first allocation uses)."""
    return Bill.objects.filter(
        customer=customer, kind=Bill.Kind.BILL, status__in=OPEN_STATUSES
    ).order_by(F("due_date").asc(nulls_last=True), "period", "pk")


def bill_history(bill: Bill) -> list[Bill]:
    """Every bill and credit note of the bill's customer and month, oldest first.

    Reads as the correction chain: bill → credit note → corrected bill.
    """
    return list(
        Bill.objects.filter(customer_id=bill.customer_id, period=bill.period)
        .select_related("reverses")
        .order_by("generated_at", "pk")
    )


def bill_number_for(*, company_id: int, period: date) -> str:
    """The number for a new bill: `BILL-YYYYMM-<company_id>`, or `…-2`, `…-3` after reversals.

    Bill numbers are unique and a reversed bill keeps its number (the customer has
    it on paper), so the corrected bill of the same month takes the next suffix.
    """
    base = f"BILL-{period:%Y%m}-{company_id}"
    taken = set(Bill.objects.filter(number__startswith=base).values_list("number", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
