"""Billing's notifications: overdue bills, payments on one's own customer, the month's drafts.

Overdue is derived (`selectors.overdue_q`), so the nightly scan is the only
place that turns "is overdue" into "somebody was told".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse

from accounts.models import NotificationKind, User
from accounts.notifications import NotifyEvent, NotifyResult, notify, notify_many
from accounts.roles import Role
from accounts.webhooks import webhook_emit, webhook_emit_many
from billing.bills.selectors import overdue_q
from billing.models import Bill, Payment, PaymentAllocation
from billing.money import format_money
from customers.reminders import ReminderCounts
from customers.selectors import customers_in_scope_of_users, users_in_scope_of

# Days overdue at which each person hears about a bill. The highest threshold
# reached wins, so a scan after downtime sends one reminder, not a backlog.
OWNER_THRESHOLDS = (1, 7, 30)
LEAD_THRESHOLDS = (15, 30)


def _reached(days: int, thresholds: tuple[int, ...]) -> int | None:
    reached = [t for t in thresholds if days >= t]
    return max(reached) if reached else None


def overdue_reminders_send(*, today: date) -> ReminderCounts:
    """Tell owners (1/7/30 days) and their team leads (from 15 days) about overdue bills."""
    counts = ReminderCounts()
    bills = (
        Bill.objects.filter(overdue_q(today), customer__is_deleted=False)
        .select_related("customer__sales_owner__team__lead")
        .order_by("due_date", "pk")
    )
    for bill in bills:
        days = (today - bill.due_date).days
        customer = bill.customer
        owner = customer.sales_owner
        team = owner.team if owner is not None else None
        lead = team.lead if team is not None else None
        link = reverse("billing:bill-detail", args=[bill.pk])
        title = f"{customer.name} 账单 {bill.number} 已逾期 {days} 天"
        body = f"未收金额 {format_money(bill.balance)}，到期日 {bill.due_date:%Y-%m-%d}。请在 24 小时内联系客户。"
        for person, thresholds in ((owner, OWNER_THRESHOLDS), (lead, LEAD_THRESHOLDS)):
            threshold = _reached(days, thresholds)
            if person is None or threshold is None:
                continue
            counts.add(
                notify(
                    recipients=users_in_scope_of(customer, [person]),
                    kind=NotificationKind.BILL_OVERDUE,
                    event_key=f"bill:{bill.pk}:overdue:{threshold}",
                    title=title,
                    body=body,
                    link=link,
                    obj=bill,
                )
            )
    return counts


def payment_recorded_notify(*, payment: Payment) -> NotifyResult:
    """The customer's sales owner hears about money received; outside systems get the event."""
    return payments_recorded_notify(payments=[payment])


def _payment_payload(payment: Payment) -> dict:
    customer = payment.customer
    return {
        "payment_id": payment.pk,
        "company_id": customer.company_id,
        "customer": customer.name,
        "amount": str(payment.amount),
        "received_on": payment.received_on.isoformat(),
        "method": payment.method,
        "bank_ref": payment.bank_ref,
    }


def _owners_in_scope(customers: dict[int, Any]) -> dict[int, tuple]:
    """Per customer, its sales owner as the one recipient, or nobody when the owner's scope
    no longer covers the customer; the scopes read once for the whole batch."""
    allowed = customers_in_scope_of_users((c.sales_owner for c in customers.values()), customers)
    return {
        pk: (c.sales_owner,)
        if c.sales_owner is not None and pk in allowed.get(c.sales_owner.pk, ())
        else ()
        for pk, c in customers.items()
    }


def payments_recorded_notify(*, payments: list[Payment]) -> NotifyResult:
    """`payment_recorded_notify` for a file of payments: one webhook event and one sales-owner
    notification per payment, as one at a time, with the lookups made once for the batch."""
    webhook_emit_many(event="payment.recorded", payloads=[_payment_payload(p) for p in payments])
    recipients = _owners_in_scope({p.customer.pk: p.customer for p in payments})
    events = []
    for payment in payments:
        customer = payment.customer
        events.append(
            NotifyEvent(
                recipients=recipients[customer.pk],
                kind=NotificationKind.PAYMENT,
                event_key=f"payment:{payment.pk}:received",
                title=f"{customer.name} 收款 {format_money(payment.amount)}",
                body=f"收款日期 {payment.received_on:%Y-%m-%d}，{payment.get_method_display()}。",
                link=reverse("billing:payment-detail", args=[payment.pk]),
                obj=payment,
            )
        )
    return notify_many(events)


def allocations_notify(*, allocations: list[PaymentAllocation]) -> None:
    recipients = _owners_in_scope({a.bill.customer.pk: a.bill.customer for a in allocations})
    events = []
    for allocation in allocations:
        bill = allocation.bill
        customer = bill.customer
        events.append(
            NotifyEvent(
                recipients=recipients[customer.pk],
                kind=NotificationKind.PAYMENT,
                event_key=f"allocation:{allocation.pk}",
                title=f"{customer.name} 账单 {bill.number} 核销 {format_money(allocation.amount)}",
                body=f"账单状态：{bill.get_status_display()}，未收余额 {format_money(bill.balance)}。",
                link=reverse("billing:bill-detail", args=[bill.pk]),
                obj=bill,
            )
        )
    notify_many(events)


def bill_issued_emit(*, bill: Bill) -> None:
    webhook_emit(
        event="bill.issued",
        payload={
            "bill_id": bill.pk,
            "number": bill.number,
            "company_id": bill.customer.company_id,
            "customer": bill.customer.name,
            "period": f"{bill.period:%Y-%m}",
            "total": str(bill.total),
            "due_date": bill.due_date.isoformat() if bill.due_date else None,
        },
    )


def drafts_ready_notify(*, period: date, bills: int, anomalies: int) -> NotifyResult:
    """Ops hear that the month's drafts are waiting, with how many need a look."""
    ops = User.objects.filter(role=Role.OPS, is_active=True)
    url = reverse("billing:bill-list") + f"?period={period:%Y-%m}"
    return notify(
        recipients=list(ops),
        kind=NotificationKind.DRAFTS_READY,
        event_key=f"drafts:{period:%Y-%m}",
        title=f"{period:%Y-%m} 草稿账单已生成：{bills} 张，异常 {anomalies} 张",
        body="请检查异常账单后出账。" if anomalies else "没有异常，可以出账。",
        link=url + ("&anomalies=on" if anomalies else ""),
    )
