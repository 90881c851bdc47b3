"""Payments and allocations. STAND-IN (issue 8): minimal implementations of the contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Customer

from .models import Bill, Payment, PaymentAllocation


@transaction.atomic
def payment_record(
    *,
    user: Any,
    customer: Customer,
    amount: Decimal,
    received_on: date,
    method: str,
    bank_ref: str = "",
    payer: str = "",
    note: str = "",
    idempotency_key: str | None = None,
) -> Payment:
    if idempotency_key:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if amount <= 0:
        raise ValidationError({"amount": "收款金额必须大于 0"})
    if bank_ref and Payment.objects.filter(method=method, bank_ref=bank_ref).exists():
        raise ValidationError({"bank_ref": f"银行流水号“{bank_ref}”已登记过"})
    return Payment.objects.create(
        customer=customer,
        amount=amount,
        received_on=received_on,
        method=method,
        bank_ref=bank_ref,
        payer=payer,
        note=note,
        idempotency_key=idempotency_key,
        created_by=user,
    )


def _bill_status(bill: Bill) -> str:
    if bill.amount_paid >= bill.total:
        return Bill.Status.PAID
    if bill.amount_paid > 0:
        return Bill.Status.PARTIALLY_PAID
    return Bill.Status.ISSUED


@transaction.atomic
def payment_allocate(
    *, user: Any, payment: Payment, allocations: list[tuple[Bill, Decimal]]
) -> list[PaymentAllocation]:
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    made = []
    for bill, amount in allocations:
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        if bill.customer_id != payment.customer_id:
            raise ValidationError({"bill": f"账单 {bill.number} 不属于该收款的客户"})
        if bill.kind != Bill.Kind.BILL or bill.status not in (
            Bill.Status.ISSUED,
            Bill.Status.PARTIALLY_PAID,
        ):
            raise ValidationError({"bill": f"账单 {bill.number} 不是待收款状态"})
        if amount <= 0:
            raise ValidationError({"amount": "核销金额必须大于 0"})
        if amount > payment.unallocated:
            raise ValidationError({"amount": f"核销金额超过收款未核销余额 ¥{payment.unallocated}"})
        if amount > bill.balance:
            raise ValidationError(
                {"amount": f"核销金额超过账单 {bill.number} 的未收余额 ¥{bill.balance}"}
            )
        made.append(
            PaymentAllocation.objects.create(
                payment=payment, bill=bill, amount=amount, created_by=user
            )
        )
        payment.allocated += amount
        payment.save(update_fields=["allocated"])
        bill.amount_paid += amount
        bill.status = _bill_status(bill)
        bill.save(update_fields=["amount_paid", "status", "updated_at"])
    return made


@transaction.atomic
def payment_allocate_oldest_first(*, user: Any, payment: Payment) -> list[PaymentAllocation]:
    payment = Payment.objects.get(pk=payment.pk)
    remaining = payment.unallocated
    plan = []
    open_bills = Bill.objects.filter(
        customer_id=payment.customer_id,
        kind=Bill.Kind.BILL,
        status__in=[Bill.Status.ISSUED, Bill.Status.PARTIALLY_PAID],
        total__gt=F("amount_paid"),
    ).order_by("period", "pk")
    for bill in open_bills:
        if remaining <= 0:
            break
        amount = min(remaining, bill.balance)
        plan.append((bill, amount))
        remaining -= amount
    return payment_allocate(user=user, payment=payment, allocations=plan)


@transaction.atomic
def allocation_undo(*, user: Any, allocation: PaymentAllocation, reason: str) -> PaymentAllocation:
    allocation = PaymentAllocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.undone_at is not None:
        raise ValidationError({"allocation": "该核销已撤销"})
    if not reason.strip():
        raise ValidationError({"reason": "请填写撤销原因"})
    allocation.undone_at = timezone.now()
    allocation.undone_by = user
    allocation.undo_reason = reason
    allocation.save(update_fields=["undone_at", "undone_by", "undo_reason"])
    Payment.objects.filter(pk=allocation.payment_id).update(
        allocated=F("allocated") - allocation.amount
    )
    bill = Bill.objects.select_for_update().get(pk=allocation.bill_id)
    bill.amount_paid -= allocation.amount
    bill.status = _bill_status(bill)
    bill.save(update_fields=["amount_paid", "status", "updated_at"])
    return allocation
