"""The desk's writes: contacts with promises, the statement sent, promises kept or broken."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Notification, NotificationKind
from billing.collections.services import (
    contact_log,
    promise_record,
    promises_mark_broken,
    statement_send,
)
from billing.models import Bill, CollectionContact, PaymentPromise
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    PaymentPromiseFactory,
    ReportBillFactory,
    ReportPaymentFactory,
)

pytestmark = pytest.mark.django_db


def test_a_call_with_a_promise_records_both_and_audits_them(team):
    customer = CustomerFactory(sales_owner=team["sales1"])
    contact = contact_log(
        user=team["sales1"],
        customer=customer,
        channel="call",
        outcome="promised",
        note="财务说月底付",
        promise_amount=Decimal("800.00"),
        promise_date=timezone.localdate() + dt.timedelta(days=5),
    )
    promise = PaymentPromise.objects.get(customer=customer)
    assert promise.contact == contact and promise.status == PaymentPromise.Status.OPEN
    assert contact.by == team["sales1"]
    for obj in (contact, promise):
        assert LogEntry.objects.get_for_object(obj).filter(action=LogEntry.Action.CREATE).exists()


def test_nobody_logs_a_contact_for_a_customer_outside_their_scope(team):
    customer = CustomerFactory(sales_owner=team["other"])
    with pytest.raises(ValidationError, match="不在你的客户范围内"):
        contact_log(user=team["sales1"], customer=customer, channel="call", outcome="reached")
    assert not CollectionContact.objects.exists()


def test_a_manager_reads_the_desk_but_logs_nothing(manager_user):
    with pytest.raises(ValidationError, match="只有销售、运营和管理员"):
        contact_log(
            user=manager_user, customer=CustomerFactory(), channel="call", outcome="reached"
        )


def test_a_promise_in_the_past_is_refused_in_chinese(team):
    customer = CustomerFactory(sales_owner=team["sales1"])
    with pytest.raises(ValidationError) as exc:
        promise_record(
            user=team["sales1"],
            customer=customer,
            amount=Decimal("10"),
            promised_date=timezone.localdate() - dt.timedelta(days=1),
        )
    assert exc.value.message_dict == {"promise_date": ["承诺付款日期不能早于今天"]}


def test_statement_is_emailed_as_pdf_and_recorded_as_a_contact(team):
    customer = CustomerFactory(name="对账房产", sales_owner=team["sales1"])
    ContactFactory(customer=customer, email="other@example.com", is_primary=False)
    ContactFactory(customer=customer, email="cfo@example.com", is_primary=True)
    ReportBillFactory(customer=customer, total=Decimal("320.00"), period=dt.date(2026, 10, 1))

    to = statement_send(
        user=team["sales1"],
        customer=customer,
        date_from=dt.date(2026, 10, 1),
        date_to=dt.date(2026, 11, 30),
    )

    assert to == "cfo@example.com"
    (message,) = mail.outbox
    assert message.to == ["cfo@example.com"]
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")
    contact = CollectionContact.objects.get(customer=customer)
    assert (contact.channel, contact.outcome) == ("email", "statement_sent")
    assert "cfo@example.com" in contact.note


def test_statement_without_an_email_address_says_what_to_fix(team):
    customer = CustomerFactory(sales_owner=team["sales1"])
    with pytest.raises(ValidationError, match="没有填写邮箱的联系人"):
        statement_send(
            user=team["sales1"],
            customer=customer,
            date_from=dt.date(2026, 10, 1),
            date_to=dt.date(2026, 11, 30),
        )
    assert not mail.outbox and not CollectionContact.objects.exists()


# --- the nightly check -----------------------------------------------------------


def promise_for(team, *, amount="500.00", day=dt.date(2026, 11, 20)):
    customer = CustomerFactory(name="承诺房产", sales_owner=team["sales1"])
    ReportBillFactory(customer=customer, total=Decimal("900.00"), status=Bill.Status.ISSUED)
    promise = PaymentPromiseFactory(customer=customer, amount=Decimal(amount), promised_date=day)
    PaymentPromise.objects.filter(pk=promise.pk).update(
        created_at=dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
    )
    promise.refresh_from_db()
    return promise


def test_a_promise_is_not_broken_on_its_own_date(team):
    promise = promise_for(team)
    assert promises_mark_broken(today=dt.date(2026, 11, 20)).broken == 0
    promise.refresh_from_db()
    assert promise.status == PaymentPromise.Status.OPEN


def test_a_broken_promise_is_flagged_once_and_notified_once(team):
    # Given a promise of ¥500 by 2026-11-20 and only ¥200 paid by then
    promise = promise_for(team)
    ReportPaymentFactory(
        customer=promise.customer, amount="200.00", received_on=dt.date(2026, 11, 18)
    )

    # When the nightly check runs the next day, and again the day after
    first = promises_mark_broken(today=dt.date(2026, 11, 21))
    second = promises_mark_broken(today=dt.date(2026, 11, 22))

    # Then it is broken once, and the owner and the team lead each heard once
    assert (first.broken, second.broken) == (1, 0)
    promise.refresh_from_db()
    assert promise.status == PaymentPromise.Status.BROKEN and promise.broken_at is not None
    told = Notification.objects.filter(kind=NotificationKind.PROMISE_BROKEN)
    assert sorted(told.values_list("recipient__username", flat=True)) == ["lead1", "sales1"]
    assert "实际收款 ¥200.00" in told.first().body
    assert (
        LogEntry.objects.get_for_object(promise).filter(action=LogEntry.Action.UPDATE).count() == 1
    )


def test_a_promise_paid_in_full_by_its_date_is_kept(team):
    promise = promise_for(team)
    ReportPaymentFactory(
        customer=promise.customer, amount="500.00", received_on=dt.date(2026, 11, 20)
    )

    result = promises_mark_broken(today=dt.date(2026, 11, 21))

    assert (result.kept, result.broken) == (1, 0)
    promise.refresh_from_db()
    assert promise.status == PaymentPromise.Status.KEPT
    assert not Notification.objects.exists()


def test_the_scheduler_runs_the_check_once_per_day(team, beat_schedules):
    promise = promise_for(team)
    for _ in range(2):
        call_command("run_schedule", "--today", "2026-11-21", stdout=StringIO())
    call_command("run_schedule", "--today", "2026-11-22", stdout=StringIO())
    promise.refresh_from_db()
    assert promise.status == PaymentPromise.Status.BROKEN
    assert Notification.objects.filter(kind=NotificationKind.PROMISE_BROKEN).count() == 2
