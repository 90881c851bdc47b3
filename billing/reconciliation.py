"""Writes for the bill lifecycle and reconciliation: issue, reverse, record and allocate payments."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from auditlog.context import auditlog_value, set_actor
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Sum
from django.utils import timezone

from customers.models import Customer

from . import reminders
from .models import ZERO, Bill, BillLine, Payment, PaymentAllocation
from .money import format_money, to_money
from .selectors import OPEN_STATUSES, bills_open_for_customer
from .services import plans_lock_for_bills

DEFAULT_PAYMENT_TERMS_DAYS = 30


@contextlib.contextmanager
def _audited(user: Any):
    """Attribute audit entries to `user`, then restore whatever actor context was there.

    auditlog's set_actor leaves its value behind on exit; restoring keeps the
    request middleware's context intact when a view calls a service.
    """
    previous = auditlog_value.get(None)
    try:
        with set_actor(user):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


def _bill_status_for(bill: Bill) -> str:
    """issued ↔ partially_paid ↔ paid follows amount_paid; the status is never set by hand."""
    if bill.amount_paid <= 0:
        return Bill.Status.ISSUED
    if bill.amount_paid < bill.total:
        return Bill.Status.PARTIALLY_PAID
    return Bill.Status.PAID


# --- lifecycle ---------------------------------------------------------------


def bill_add_manual_line(
    *, user: Any, bill: Bill, amount: Decimal, explanation: str, reason: str
) -> BillLine:
    """Add a manual adjustment (手工调整) to a draft bill; the reason is kept on the line and audited."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写调整原因"})
    with transaction.atomic(), _audited(user):
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        if bill.status != Bill.Status.DRAFT or bill.kind != Bill.Kind.BILL:
            raise ValidationError(f"账单 {bill.number} 已出账，不能修改；如需更正请冲正后重新出账")
        amount = to_money(amount)
        if amount == 0:
            raise ValidationError({"amount": "调整金额不能为 0"})
        new_total = to_money(
            sum((to_money(a) for a in bill.lines.values_list("amount", flat=True)), ZERO) + amount
        )
        if new_total < 0:
            raise ValidationError(
                {"amount": f"调整后账单金额为 {format_money(new_total)}，不能为负数"}
            )
        position = (bill.lines.aggregate(m=Max("position"))["m"] or 0) + 1
        line = BillLine.objects.create(
            bill=bill,
            position=position,
            line_type=BillLine.LineType.MANUAL,
            quantity=Decimal("1"),
            unit_price=amount,
            amount=amount,
            explanation=(explanation or "").strip() or f"手工调整 {format_money(amount)}",
            reason=reason,
            created_by=user,
        )
        bill.total = new_total
        bill.save(update_fields=["total", "updated_at"])
    return line


def bill_issue(*, user: Any, bill: Bill, due_date: date | None = None) -> Bill:
    """Issue a draft bill: fix its total from its lines, set the due date and freeze it.

    The due date defaults to the customer's payment terms (账期) counted from the
    issue day, 30 days when the customer has none.
    """
    with transaction.atomic(), _audited(user):
        bill = Bill.objects.select_for_update().select_related("customer").get(pk=bill.pk)
        if bill.kind != Bill.Kind.BILL:
            raise ValidationError("冲正单在冲正时已出账")
        if bill.status != Bill.Status.DRAFT:
            raise ValidationError(
                f"账单 {bill.number} 已是“{bill.get_status_display()}”，不能重复出账"
            )
        amounts = list(bill.lines.values_list("amount", flat=True))
        total = to_money(sum((to_money(a) for a in amounts), ZERO)) if amounts else bill.total
        if total < 0:
            raise ValidationError(
                f"账单 {bill.number} 金额为负（{format_money(total)}），请检查明细"
            )
        today = timezone.localdate()
        terms = bill.customer.payment_terms_days
        if terms is None:
            terms = DEFAULT_PAYMENT_TERMS_DAYS
        bill.total = total
        bill.due_date = due_date or today + timedelta(days=terms)
        bill.issued_at = timezone.now()
        bill.issued_by = user
        # A zero bill (e.g. fully discounted) owes nothing: it is settled the moment it is issued.
        bill.status = Bill.Status.ISSUED if total > 0 else Bill.Status.PAID
        bill.save(
            update_fields=["total", "due_date", "issued_at", "issued_by", "status", "updated_at"]
        )
        # The plans that priced an issued bill are never edited again; changes need a version.
        plans_lock_for_bills(bills=[bill])
        reminders.bill_issued_emit(bill=bill)
    return bill


def bills_issue_for_period(*, user: Any, period: date, customers=None) -> list[Bill]:
    """Issue every draft bill of a month (optionally only for `customers`, e.g. a user's scope).

    All or nothing: one bill that cannot be issued stops the batch with its number.
    """
    qs = Bill.objects.filter(kind=Bill.Kind.BILL, status=Bill.Status.DRAFT, period=period)
    if customers is not None:
        qs = qs.filter(customer__in=customers)
    issued = []
    with transaction.atomic():
        for bill in qs.order_by("customer__company_id"):
            issued.append(bill_issue(user=user, bill=bill))
    return issued


def _next_credit_note_number(bill: Bill) -> str:
    prefix = f"CN-{bill.period:%Y%m}-{bill.customer.company_id}-"
    existing = Bill.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    used = [int(n.rsplit("-", 1)[1]) for n in existing if n.rsplit("-", 1)[1].isdigit()]
    return f"{prefix}{max(used, default=0) + 1}"


def bill_reverse(*, user: Any, bill: Bill, reason: str) -> Bill:
    """Cancel an issued bill with a credit note (冲正单) for −total; returns the credit note.

    Allocations must be undone first so the money goes back to the payment as
    credit rather than vanishing. The original becomes `reversed`, which frees
    its (customer, period) slot for a corrected bill.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写冲正原因"})
    with transaction.atomic(), _audited(user):
        bill = Bill.objects.select_for_update().select_related("customer").get(pk=bill.pk)
        if bill.kind != Bill.Kind.BILL:
            raise ValidationError("冲正单不能再冲正")
        if bill.status == Bill.Status.DRAFT:
            raise ValidationError(f"账单 {bill.number} 还是草稿，直接修改或重新生成即可，无需冲正")
        if bill.status == Bill.Status.REVERSED:
            raise ValidationError(f"账单 {bill.number} 已冲正")
        active = bill.allocations.filter(undone_at__isnull=True).count()
        if active:
            raise ValidationError(
                f"账单 {bill.number} 还有 {active} 笔核销记录，请先撤销这些核销，再冲正"
            )
        now = timezone.now()
        note = Bill.objects.create(
            number=_next_credit_note_number(bill),
            kind=Bill.Kind.CREDIT_NOTE,
            customer=bill.customer,
            period=bill.period,
            status=Bill.Status.DRAFT,
            total=-bill.total,
            reverses=bill,
            reason=reason,
        )
        BillLine.objects.create(
            bill=note,
            position=1,
            line_type=BillLine.LineType.CREDIT,
            quantity=Decimal("1"),
            unit_price=-bill.total,
            amount=-bill.total,
            explanation=f"冲正账单 {bill.number}：{format_money(-bill.total)}",
            reason=reason,
            created_by=user,
        )
        # Lines are written while the note is a draft; issuing it freezes it like any bill.
        note.status = Bill.Status.ISSUED
        note.issued_at = now
        note.issued_by = user
        note.due_date = bill.due_date
        note.save(update_fields=["status", "issued_at", "issued_by", "due_date", "updated_at"])
        bill.status = Bill.Status.REVERSED
        bill.save(update_fields=["status", "updated_at"])
    return note


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
    """Apply parts of a payment to bills of its customer (核销).

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
        for bill_id, amount in wanted.items():
            bill = bills[bill_id]
            if bill.customer_id != payment.customer_id:
                raise ValidationError(f"账单 {bill.number} 不属于该收款的客户")
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
    """Spend the payment's unallocated amount on the customer's open bills, oldest due first.

    Whatever is left stays on the payment as the customer's credit (预收/余额).
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        remaining = payment.unallocated
        plan: list[tuple[Bill, Decimal]] = []
        for bill in bills_open_for_customer(payment.customer_id):
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
