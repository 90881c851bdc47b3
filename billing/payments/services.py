"""Writes of payments: record, allocate (核销) by hand or oldest first, undo, pay a bill from credit."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.bills.selectors import OPEN_STATUSES, bills_open_for_payer, payer_customer_ids
from billing.bills.services import _audited, _bill_status_for
from billing.models import ZERO, Bill, Payment, PaymentAllocation
from billing.money import format_money, to_money
from billing.schedules import reminders
from customers.models import Customer

# --- lifecycle ---------------------------------------------------------------


# --- payments ------------------------------------------------------------------


class DuplicateBankRefError(ValidationError):
    """The bank reference is already recorded for this method; `existing` is the first payment.

    Keyed by field (bank_ref) so forms and the API put the message on the field itself.
    """

    def __init__(self, existing: Payment) -> None:
        self.existing = existing
        message = (
            f"银行流水号 {existing.bank_ref} 已登记过（收款 #{existing.pk}，"
            f"{existing.received_on:%Y-%m-%d} {format_money(existing.amount)}，{existing.customer.name}），"
            "不能重复录入"
        )
        super().__init__({"bank_ref": ValidationError(message, code="duplicate_bank_ref")})


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
    """Record money received. A replay with the same idempotency key returns the first payment."""
    idempotency_key = (idempotency_key or "").strip() or None
    if idempotency_key:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    amount = to_money(amount)
    if amount <= 0:
        raise ValidationError({"amount": "收款金额必须大于 0"})
    if method not in Payment.Method.values:
        raise ValidationError({"method": f"未知收款方式：{method}"})
    bank_ref = (bank_ref or "").strip()
    if bank_ref:
        first = (
            Payment.objects.select_related("customer")
            .filter(method=method, bank_ref=bank_ref)
            .first()
        )
        if first is not None:
            if idempotency_key and first.idempotency_key == idempotency_key:
                return first  # a replay whose first submission committed after the key check
            raise DuplicateBankRefError(first)
    payment = Payment(
        customer=customer,
        amount=amount,
        received_on=received_on,
        method=method,
        bank_ref=bank_ref,
        payer=(payer or "").strip(),
        note=(note or "").strip(),
        idempotency_key=idempotency_key,
        created_by=user,
    )
    try:
        with transaction.atomic(), _audited(user):
            payment.save()
            reminders.payment_recorded_notify(payment=payment)
    except IntegrityError:
        # Lost a race: the same key or bank reference was committed a moment ago.
        if idempotency_key:
            existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        first = (
            Payment.objects.filter(method=method, bank_ref=bank_ref).first() if bank_ref else None
        )
        if first is not None:
            raise DuplicateBankRefError(first) from None
        raise
    return payment


def payment_allocate(
    *, user: Any, payment: Payment, allocations: list[tuple[Bill, Decimal]]
) -> list[PaymentAllocation]:
    """Apply parts of a payment to bills of its customer (核销), or, for a head office
    (总部), of its group's members.

    Locks the payment and then the bills (in id order, so two tabs cannot
    deadlock) and re-reads them, so concurrent allocations can never take a
    payment or a bill past its amount. The check constraints on Payment.allocated
    and Bill.amount_paid are the last line of defence.
    """
    wanted: OrderedDict[int, Decimal] = OrderedDict()
    for bill, amount in allocations:
        amount = to_money(amount)
        if amount < 0:
            raise ValidationError(f"账单 {bill.number}：核销金额不能为负数")
        if amount == 0:
            continue
        wanted[bill.pk] = wanted.get(bill.pk, ZERO) + amount
    if not wanted:
        raise ValidationError("请至少为一张账单填写大于 0 的核销金额")
    created: list[PaymentAllocation] = []
    with transaction.atomic(), _audited(user):
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        bills = {
            b.pk: b for b in Bill.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
        }
        total = sum(wanted.values(), ZERO)
        if total > payment.unallocated:
            raise ValidationError(
                f"核销合计 {format_money(total)} 超过收款未核销余额 {format_money(payment.unallocated)}"
            )
        payable = payer_customer_ids(payment.customer_id)
        for bill_id, amount in wanted.items():
            bill = bills[bill_id]
            if bill.customer_id not in payable:
                raise ValidationError(
                    f"账单 {bill.number} 不属于该收款的客户，也不属于其为总部的集团成员"
                )
            if bill.kind != Bill.Kind.BILL or bill.status not in OPEN_STATUSES:
                raise ValidationError(
                    f"账单 {bill.number} 状态为“{bill.get_status_display()}”，不能核销"
                )
            if amount > bill.balance:
                raise ValidationError(
                    f"账单 {bill.number}：核销 {format_money(amount)} 超过未收余额 {format_money(bill.balance)}"
                )
            created.append(
                PaymentAllocation.objects.create(
                    payment=payment, bill=bill, amount=amount, created_by=user
                )
            )
            bill.amount_paid += amount
            bill.status = _bill_status_for(bill)
            bill.save(update_fields=["amount_paid", "status", "updated_at"])
        payment.allocated += total
        payment.save(update_fields=["allocated"])
        reminders.allocations_notify(allocations=created)
    return created


def payment_allocate_oldest_first(*, user: Any, payment: Payment) -> list[PaymentAllocation]:
    """Spend the payment's unallocated amount on the customer's open bills, oldest due first
    (a head office's payment: across its own and its group members' bills).

    Whatever is left stays on the payment as the customer's credit (预收/余额).
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        remaining = payment.unallocated
        plan: list[tuple[Bill, Decimal]] = []
        for bill in bills_open_for_payer(payment.customer_id):
            if remaining <= 0:
                break
            amount = min(bill.balance, remaining)
            if amount > 0:
                plan.append((bill, amount))
                remaining -= amount
        if not plan:
            return []
        return payment_allocate(user=user, payment=payment, allocations=plan)


def allocation_undo(*, user: Any, allocation: PaymentAllocation, reason: str) -> PaymentAllocation:
    """Undo an allocation: the money returns to the payment as credit, the bill reopens."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤销原因"})
    with transaction.atomic(), _audited(user):
        payment = Payment.objects.select_for_update().get(pk=allocation.payment_id)
        bill = Bill.objects.select_for_update().get(pk=allocation.bill_id)
        allocation = PaymentAllocation.objects.select_for_update().get(pk=allocation.pk)
        if allocation.undone_at is not None:
            raise ValidationError("该核销记录已撤销")
        allocation.undone_at = timezone.now()
        allocation.undone_by = user
        allocation.undo_reason = reason
        allocation.save(update_fields=["undone_at", "undone_by", "undo_reason"])
        payment.allocated -= allocation.amount
        payment.save(update_fields=["allocated"])
        bill.amount_paid -= allocation.amount
        bill.status = _bill_status_for(bill)
        bill.save(update_fields=["amount_paid", "status", "updated_at"])
    return allocation


def bill_apply_credit(*, user: Any, bill: Bill) -> list[PaymentAllocation]:
    """Pay a bill from the customer's credit: unallocated payments, earliest received first."""
    created: list[PaymentAllocation] = []
    with transaction.atomic():
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        remaining = bill.balance
        if bill.kind != Bill.Kind.BILL or bill.status not in OPEN_STATUSES or remaining <= 0:
            raise ValidationError(f"账单 {bill.number} 没有待收余额")
        payments = Payment.objects.filter(customer_id=bill.customer_id, allocated__lt=F("amount"))
        for payment in payments.order_by("received_on", "pk"):
            if remaining <= 0:
                break
            amount = min(payment.unallocated, remaining)
            created += payment_allocate(user=user, payment=payment, allocations=[(bill, amount)])
            remaining -= amount
        if not created:
            raise ValidationError("该客户没有可用的收款余额")
    return created


def customer_credit(customer: Customer) -> Decimal:
    """Money received from the customer and not yet allocated to any bill."""
    agg = Payment.objects.filter(customer=customer).aggregate(a=Sum("amount"), b=Sum("allocated"))
    return (agg["a"] or ZERO) - (agg["b"] or ZERO)
