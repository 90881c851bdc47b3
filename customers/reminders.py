"""Nightly reminders the archive owns: renewals expiring in 30 and 7 days, attention items due.

Each reminder has a stable event key, so running a day twice (or a scan that
catches up after downtime) tells each person once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.urls import reverse

from accounts.models import NotificationKind
from accounts.notifications import notify

from .models import AttentionItem, Renewal
from .selectors import users_in_scope_of

# Days before expiry at which the renewal's people hear about it; the nearest
# threshold reached wins, so a run after downtime sends one reminder, not two.
RENEWAL_THRESHOLDS = (7, 30)
# An attention reminder older than this when first seen is history, not news.
ATTENTION_LOOKBACK_DAYS = 7


@dataclass
class ReminderCounts:
    reminders: int = 0
    emails: int = 0

    def add(self, result) -> None:
        self.reminders += len(result.created)
        self.emails += result.emails


def renewal_reminders_send(*, today: date) -> ReminderCounts:
    counts = ReminderCounts()
    renewals = Renewal.objects.filter(
        status=Renewal.Status.PENDING,
        expires_on__gte=today,
        expires_on__lte=today + timedelta(days=max(RENEWAL_THRESHOLDS)),
        customer__is_deleted=False,
    ).select_related("customer", "customer__sales_owner", "owner")
    for renewal in renewals:
        days_left = (renewal.expires_on - today).days
        threshold = min(t for t in RENEWAL_THRESHOLDS if days_left <= t)
        customer = renewal.customer
        counts.add(
            notify(
                recipients=users_in_scope_of(customer, [customer.sales_owner, renewal.owner]),
                kind=NotificationKind.RENEWAL_DUE,
                event_key=f"renewal:{renewal.pk}:{threshold}",
                title=f"{customer.name} 续约将于 {renewal.expires_on:%Y-%m-%d} 到期（剩 {days_left} 天）",
                body=f"{renewal.get_kind_display()}，金额 ¥{renewal.amount:,.2f}。请及时联系客户续约。",
                link=reverse("customers:customer-detail", args=[customer.pk]),
                obj=renewal,
            )
        )
    return counts


def attention_reminders_send(*, today: date) -> ReminderCounts:
    counts = ReminderCounts()
    items = AttentionItem.objects.filter(
        remind_on__lte=today,
        remind_on__gte=today - timedelta(days=ATTENTION_LOOKBACK_DAYS),
        customer__is_deleted=False,
    ).select_related("customer", "customer__sales_owner")
    for item in items:
        customer = item.customer
        counts.add(
            notify(
                recipients=users_in_scope_of(customer, [customer.sales_owner]),
                kind=NotificationKind.ATTENTION_DUE,
                event_key=f"attention:{item.pk}:{item.remind_on:%Y%m%d}",
                title=f"{customer.name} 特别关注提醒（{item.get_priority_display()}）",
                body=item.text,
                link=reverse("customers:customer-detail", args=[customer.pk]),
                obj=item,
            )
        )
    return counts
