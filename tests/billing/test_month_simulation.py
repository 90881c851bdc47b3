"""A simulated month on the demo data, day by day through `run_schedule`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import EmailMode, Notification, NotificationKind, ScheduleRun, User
from billing.models import Bill, Payment
from customers.models import AttentionItem, Customer, Renewal
from customers.selectors import scoped_customers

pytestmark = pytest.mark.django_db


def _customer_of(n: Notification) -> int | None:
    """The customer a notification is about, from its object reference."""
    model = {
        "billing.bill": Bill,
        "billing.payment": Payment,
        "customers.renewal": Renewal,
        "customers.attentionitem": AttentionItem,
    }.get(n.object_type)
    if n.object_type == "customers.customer":
        return int(n.object_id)
    if model is None:
        return None
    return model.objects.values_list("customer_id", flat=True).get(pk=n.object_id)


def _day(today: dt.date) -> dict[str, int]:
    out = StringIO()
    call_command("run_schedule", "--today", today.isoformat(), stdout=out)
    return dict(pair.split("=") for pair in out.getvalue().split())


def test_a_month_on_the_demo_data(django_capture_on_commit_callbacks):
    # Given the demo (customers, bills issued two months back, some unpaid) with every
    # user reachable by email
    call_command("seed_demo", stdout=StringIO())
    for user in User.objects.all():
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    before = set(Notification.objects.values_list("pk", flat=True))
    start = timezone.localdate()

    # When the scheduler's days run one after another for five weeks
    totals: Counter[str] = Counter()
    for offset in range(36):
        with django_capture_on_commit_callbacks(execute=True):
            totals.update({k: int(v) for k, v in _day(start + dt.timedelta(days=offset)).items()})

    new = Notification.objects.exclude(pk__in=before).select_related("recipient")

    # Then overdue reminders and the month's drafts arrived, each counted once
    kinds = Counter(new.values_list("kind", flat=True))
    assert kinds[NotificationKind.BILL_OVERDUE] > 0
    drafted_months = ScheduleRun.objects.filter(schedule="monthly_drafts").count()
    assert drafted_months >= 1  # five weeks hold at least one configured 3rd
    ops = User.objects.filter(role="ops").count()
    assert kinds[NotificationKind.DRAFTS_READY] == ops * drafted_months
    assert totals["reminders"] == new.count()
    assert totals["generated"] > 0

    # each notification reached its person once by email, in the inbox too
    immediate = new.filter(email_mode=EmailMode.IMMEDIATE)
    assert immediate.count() == new.count()
    sent = Counter((m.to[0], m.subject) for m in mail.outbox)
    assert all(count == 1 for count in sent.values()), sent.most_common(3)
    assert sorted(sent) == sorted((n.recipient.email, f"[OP_CMS] {n.title}") for n in immediate)
    assert totals["emails"] == len(mail.outbox)
    assert all(n.in_inbox for n in new)

    # never to anyone outside the customer's scope, and overdue only to owner or lead
    for n in new:
        customer_id = _customer_of(n)
        if customer_id is None:
            assert n.kind == NotificationKind.DRAFTS_READY and n.recipient.role == "ops"
            continue
        assert scoped_customers(n.recipient).filter(pk=customer_id).exists(), n.title
        if n.kind == NotificationKind.BILL_OVERDUE:
            owner = (
                Customer.objects.select_related("sales_owner__team").get(pk=customer_id).sales_owner
            )
            assert n.recipient == owner or n.recipient == owner.team.lead

    # When a day already run is run again
    outbox = len(mail.outbox)
    count = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        again = _day(start + dt.timedelta(days=7))

    # Then nothing is sent twice
    assert again == {"generated": "0", "reminders": "0", "emails": "0", "status_changes": "0"}
    assert (len(mail.outbox), Notification.objects.count()) == (outbox, count)
