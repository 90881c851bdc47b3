"""Writes of the collections desk: contacts, promises to pay, the statement sent, broken promises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import NotificationKind
from accounts.notifications import notify
from accounts.roles import can_follow_up_collections
from billing.audit import audited_as
from billing.collections.selectors import promise_paid_amount, promises_due_unpaid
from billing.models import CollectionContact, PaymentPromise
from billing.money import format_money
from customers.models import Customer
from customers.selectors import scoped_customers, users_in_scope_of


def _require(user: Any, customer: Customer) -> None:
    if not can_follow_up_collections(user):
        raise ValidationError("只有销售、运营和管理员可以登记催收跟进")
    if not scoped_customers(user).filter(pk=customer.pk).exists():
        raise ValidationError("该客户不在你的客户范围内")


@transaction.atomic
def contact_log(
    *,
    user: Any,
    customer: Customer,
    channel: str,
    outcome: str,
    note: str = "",
    at: datetime | None = None,
    promise_amount: Decimal | None = None,
    promise_date: date | None = None,
) -> CollectionContact:
    """Record one follow-up (and the promise made in it, if any)."""
    _require(user, customer)
    at = at or timezone.now()
    if at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"at": "跟进时间不能晚于现在"})
    with audited_as(user):
        contact = CollectionContact.objects.create(
            customer=customer, by=user, at=at, channel=channel, outcome=outcome, note=note
        )
    if promise_amount is not None or promise_date is not None:
        promise_record(
            user=user,
            customer=customer,
            amount=promise_amount,
            promised_date=promise_date,
            contact=contact,
        )
    return contact


@transaction.atomic
def promise_record(
    *,
    user: Any,
    customer: Customer,
    amount: Decimal | None,
    promised_date: date | None,
    contact: CollectionContact | None = None,
) -> PaymentPromise:
    """Record a promise to pay (open until the nightly check finds it kept or broken)."""
    _require(user, customer)
    errors = {}
    if amount is None or amount <= 0:
        errors["promise_amount"] = "请填写大于 0 的承诺金额"
    if promised_date is None:
        errors["promise_date"] = "请填写承诺付款日期"
    elif promised_date < timezone.localdate():
        errors["promise_date"] = "承诺付款日期不能早于今天"
    if errors:
        raise ValidationError(errors)
    with audited_as(user):
        return PaymentPromise.objects.create(
            customer=customer,
            amount=amount,
            promised_date=promised_date,
            contact=contact,
            created_by=user,
        )


def _primary_email(customer: Customer) -> str:
    contacts = customer.contacts.exclude(email="").order_by("-is_primary", "pk")
    first = contacts.first()
    return first.email if first else ""


def statement_send(*, user: Any, customer: Customer, date_from: date, date_to: date) -> str:
    """Email the statement PDF to the customer's primary contact and record it as a contact.

    The email leaves first: a contact is recorded only for a statement that was sent.
    Returns the address it went to.
    """
    from billing.statements.documents import statement_build, statement_pdf

    _require(user, customer)
    to = _primary_email(customer)
    if not to:
        raise ValidationError("该客户没有填写邮箱的联系人，请先在客户档案中补充主要联系人的邮箱")
    statement = statement_build(customer=customer, date_from=date_from, date_to=date_to)
    message = EmailMessage(
        subject=f"{customer.name} 对账单 {date_from:%Y-%m-%d} 至 {date_to:%Y-%m-%d}",
        body=(
            f"{customer.name}：\n\n您好！附件是贵司 {date_from:%Y-%m-%d} 至 {date_to:%Y-%m-%d} 的对账单，"
            f"期末应收余额 {format_money(statement.closing)}。如有疑问请联系您的客户经理"
            f"{user.display_name}。\n"
        ),
        to=[to],
    )
    message.attach(
        f"对账单_{customer.company_id}_{date_from:%Y%m}-{date_to:%Y%m}.pdf",
        statement_pdf(statement),
        "application/pdf",
    )
    message.send()
    contact_log(
        user=user,
        customer=customer,
        channel=CollectionContact.Channel.EMAIL,
        outcome=CollectionContact.Outcome.STATEMENT_SENT,
        note=f"对账单（{date_from:%Y-%m-%d} 至 {date_to:%Y-%m-%d}）已发送至 {to}",
    )
    return to


@dataclass
class PromiseCheck:
    kept: int = 0
    broken: int = 0
    reminders: int = 0
    emails: int = 0


@transaction.atomic
def promises_mark_broken(*, today: date) -> PromiseCheck:
    """Nightly: each open promise whose date has passed is kept (paid in full by then) or broken.

    A broken promise is marked once (it leaves the open status) and its owner and
    team lead are told once (the event key is the promise's).
    """
    result = PromiseCheck()
    now = timezone.now()
    for promise in promises_due_unpaid(today=today).select_for_update(of=("self",)):
        paid = promise_paid_amount(promise)
        if paid >= promise.amount:
            promise.status = PaymentPromise.Status.KEPT
            promise.kept_at = now
            promise.save(update_fields=["status", "kept_at"])
            result.kept += 1
            continue
        promise.status = PaymentPromise.Status.BROKEN
        promise.broken_at = now
        promise.save(update_fields=["status", "broken_at"])
        result.broken += 1
        customer = promise.customer
        owner = customer.sales_owner
        lead = owner.team.lead if owner is not None and owner.team is not None else None
        told = notify(
            recipients=users_in_scope_of(customer, [owner, lead]),
            kind=NotificationKind.PROMISE_BROKEN,
            event_key=f"promise:{promise.pk}:broken",
            title=f"{customer.name} 未按承诺付款（{promise.promised_date:%Y-%m-%d}）",
            body=(
                f"承诺 {promise.promised_date:%Y-%m-%d} 前付款 {format_money(promise.amount)}，"
                f"期间实际收款 {format_money(paid)}。请尽快再次联系客户。"
            ),
            link=reverse("billing:collections-desk") + f"?q={customer.company_id}",
            obj=promise,
        )
        result.reminders += len(told.created)
        result.emails += told.emails
    return result
