"""The scheduler's duties: once per day or period, caught up once, lifecycle rules, reminders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import Job, Notification, NotificationKind, ScheduleRun
from billing.models import Bill
from billing.schedules.reminders import overdue_reminders_send
from billing.schedules.services import DUTIES
from customers.models import Customer, LifecycleChange, LifecycleRule
from customers.reminders import attention_reminders_send, renewal_reminders_send
from customers.services import customer_change_status
from tests.factories import (
    AttentionItemFactory,
    CustomerFactory,
    DeviceSeriesFactory,
    LifecycleRuleFactory,
    PricePlanFactory,
    RenewalFactory,
    TeamFactory,
    UsageRecordFactory,
    UserFactory,
    issued_bill,
)

pytestmark = pytest.mark.django_db


def run_schedule(day: str, *extra: str) -> str:
    out = StringIO()
    call_command("run_schedule", "--today", day, *extra, stdout=out)
    return out.getvalue().strip()


def test_every_duty_has_its_beat_entry_after_migrate():
    # Given the migrations replayed (a transactional test elsewhere may have flushed the rows)
    call_command("migrate", "billing", "0002", verbosity=0)
    assert not PeriodicTask.objects.filter(task="billing.schedule_reminders").exists()
    call_command("migrate", "billing", verbosity=0)

    tasks = dict(PeriodicTask.objects.values_list("task", "enabled"))
    for duty in DUTIES:
        assert tasks.get(duty.task) is True, duty.key
    drafts = PeriodicTask.objects.get(task="billing.schedule_monthly_drafts").crontab
    assert (drafts.day_of_month, drafts.hour, drafts.minute) == ("3", "2", "0")


def test_each_run_is_a_job_with_a_summary_and_the_same_day_twice_does_nothing():
    first = run_schedule("2026-12-01")
    second = run_schedule("2026-12-01")

    assert first == "generated=0 reminders=0 emails=0 status_changes=0"
    assert second == first
    runs = ScheduleRun.objects.filter(day=dt.date(2026, 12, 1))
    assert set(runs.values_list("schedule", flat=True)) >= {"reminders", "lifecycle_rules"}
    job = runs.get(schedule="reminders").job
    assert job.status == Job.Status.SUCCEEDED and job.result == {"提醒": 0, "邮件": 0}
    assert Job.objects.filter(kind="schedule:reminders").count() == 1


@pytest.fixture
def billable_customer(db):
    customer = CustomerFactory()
    series = DeviceSeriesFactory()
    PricePlanFactory(customer=customer, series=series, valid_from=dt.date(2025, 1, 1))
    UsageRecordFactory(customer=customer, series=series, shot_date=dt.date(2026, 11, 10))
    return customer


def test_monthly_drafts_run_on_the_configured_day_and_a_missed_run_is_caught_up_once(
    billable_customer, ops_user, django_capture_on_commit_callbacks
):
    ops_user.email = "ops@example.com"
    ops_user.save()
    # Before the configured day (the 3rd) nothing is drafted
    assert run_schedule("2026-12-02").startswith("generated=0")

    # The system was down on the 3rd and 4th; on the 5th the run happens once
    with django_capture_on_commit_callbacks(execute=True):
        caught_up = run_schedule("2026-12-05")
    again = run_schedule("2026-12-06")

    assert caught_up.startswith("generated=1 ")
    assert again.startswith("generated=0 ")
    bill = Bill.objects.get(customer=billable_customer)
    assert (bill.period, bill.status) == (dt.date(2026, 11, 1), Bill.Status.DRAFT)
    assert ScheduleRun.objects.get(schedule="monthly_drafts").day == dt.date(2026, 12, 3)
    # Ops were told the drafts are ready, with the anomaly count, once
    told = Notification.objects.get(recipient=ops_user, kind=NotificationKind.DRAFTS_READY)
    assert told.title.startswith("2026-11 草稿账单已生成：1 张")
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]


def test_a_switched_off_schedule_does_not_run(billable_customer, beat_schedules):
    PeriodicTask.objects.filter(task="billing.schedule_monthly_drafts").update(enabled=False)
    assert run_schedule("2026-12-03").startswith("generated=0")
    assert not Bill.objects.exists()


def test_dry_run_counts_but_writes_and_sends_nothing(billable_customer):
    assert run_schedule("2026-12-03", "--dry-run").startswith("generated=1")
    assert not Bill.objects.exists()
    assert not ScheduleRun.objects.exists()
    assert mail.outbox == []


# --- overdue reminders ------------------------------------------------------------


@pytest.fixture
def sales_team(db):
    lead = UserFactory(username="lead", email="lead@example.com")
    team = TeamFactory(lead=lead)
    lead.team = team
    lead.save()
    owner = UserFactory(username="owner", team=team, email="owner@example.com")
    outsider = UserFactory(username="outsider", email="out@example.com")
    return owner, lead, outsider


def test_overdue_bill_reminds_the_owner_at_1_7_30_days_and_the_lead_from_15(sales_team, ops_user):
    owner, lead, outsider = sales_team
    customer = CustomerFactory(sales_owner=owner)
    bill = issued_bill(user=ops_user, customer=customer, due_date=dt.date(2026, 11, 1))
    due = bill.due_date

    seen = []
    for offset in range(0, 40):
        counts = overdue_reminders_send(today=due + dt.timedelta(days=offset))
        if counts.reminders:
            seen.append(offset)

    keys = sorted(Notification.objects.values_list("recipient__username", "event_key"))
    assert keys == sorted(
        [
            ("owner", f"bill:{bill.pk}:overdue:1"),
            ("owner", f"bill:{bill.pk}:overdue:7"),
            ("owner", f"bill:{bill.pk}:overdue:30"),
            ("lead", f"bill:{bill.pk}:overdue:15"),
            ("lead", f"bill:{bill.pk}:overdue:30"),
        ]
    )
    assert seen == [1, 7, 15, 30]
    assert not Notification.objects.filter(recipient=outsider).exists()


def test_a_scan_after_downtime_sends_one_reminder_not_the_backlog(sales_team, ops_user):
    owner, lead, _ = sales_team
    bill = issued_bill(
        user=ops_user, customer=CustomerFactory(sales_owner=owner), due_date=dt.date(2026, 11, 1)
    )
    overdue_reminders_send(today=dt.date(2026, 11, 11))  # first scan: 10 days overdue
    assert list(
        Notification.objects.filter(recipient=owner).values_list("event_key", flat=True)
    ) == [f"bill:{bill.pk}:overdue:7"]


def test_a_paid_bill_is_not_overdue(sales_team, ops_user):
    owner, _, _ = sales_team
    bill = issued_bill(
        user=ops_user, customer=CustomerFactory(sales_owner=owner), due_date=dt.date(2026, 11, 1)
    )
    Bill.objects.filter(pk=bill.pk).update(amount_paid=bill.total, status=Bill.Status.PAID)
    assert overdue_reminders_send(today=dt.date(2026, 11, 20)).reminders == 0


def test_a_lead_whose_scope_was_narrowed_is_not_told(sales_team, ops_user):
    owner, lead, _ = sales_team
    lead.data_scope = "own"
    lead.save()
    issued_bill(
        user=ops_user, customer=CustomerFactory(sales_owner=owner), due_date=dt.date(2026, 11, 1)
    )
    overdue_reminders_send(today=dt.date(2026, 11, 20))
    assert not Notification.objects.filter(recipient=lead).exists()
    assert Notification.objects.filter(recipient=owner).count() == 1


# --- renewals and attention --------------------------------------------------------


def test_renewal_reminders_at_30_and_7_days(sales_team):
    owner, _, outsider = sales_team
    RenewalFactory(customer=CustomerFactory(sales_owner=owner), expires_on=dt.date(2027, 1, 31))
    sent_on = []
    for offset in range(45):
        today = dt.date(2026, 12, 17) + dt.timedelta(days=offset)
        if renewal_reminders_send(today=today).reminders:
            sent_on.append(today)
    assert sent_on == [dt.date(2027, 1, 1), dt.date(2027, 1, 24)]
    assert not Notification.objects.filter(recipient=outsider).exists()


def test_attention_reminder_arrives_on_its_day_once(sales_team):
    owner, _, _ = sales_team
    AttentionItemFactory(
        customer=CustomerFactory(sales_owner=owner), remind_on=dt.date(2026, 12, 8)
    )
    counts = [attention_reminders_send(today=dt.date(2026, 12, d)).reminders for d in (7, 8, 9)]
    assert counts == [0, 1, 0]
    assert Notification.objects.get(recipient=owner).kind == NotificationKind.ATTENTION_DUE


# --- lifecycle rules -----------------------------------------------------------------


@pytest.fixture
def only_rule(db):
    LifecycleRule.objects.all().delete()

    def make(**kwargs):
        return LifecycleRuleFactory(**kwargs)

    return make


def _age(customer, days_ago_from: dt.date, days: int) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        created_at=dt.datetime.combine(
            days_ago_from - dt.timedelta(days=days), dt.time(9), tzinfo=dt.UTC
        )
    )


def test_no_usage_rule_moves_an_active_customer_and_tells_the_owner(only_rule, sales_team):
    owner, _, _ = sales_team
    rule = only_rule(name="活跃客户 90 天无用量转休眠", days=90)
    today = dt.date(2026, 12, 1)
    idle = CustomerFactory(sales_owner=owner, lifecycle_status="active")
    busy = CustomerFactory(sales_owner=owner, lifecycle_status="active")
    _age(idle, today, 400)
    _age(busy, today, 400)
    UsageRecordFactory(customer=busy, series=DeviceSeriesFactory(), shot_date=dt.date(2026, 10, 1))
    UsageRecordFactory(customer=idle, series=DeviceSeriesFactory(), shot_date=dt.date(2026, 8, 1))

    assert run_schedule("2026-12-01").endswith("status_changes=1")
    assert run_schedule("2026-12-01").endswith("status_changes=0")

    idle.refresh_from_db()
    busy.refresh_from_db()
    assert (idle.lifecycle_status, busy.lifecycle_status) == ("dormant", "active")
    change = LifecycleChange.objects.get(customer=idle, to_status="dormant")
    assert change.reason == f"系统自动：{rule.name}" and change.changed_by is None
    n = Notification.objects.get(recipient=owner, kind=NotificationKind.LIFECYCLE_CHANGED)
    assert "活跃 → 休眠" in n.title and "操作人：系统" in n.body


def test_a_status_set_by_hand_is_not_overridden_during_the_hold(only_rule, sales_team, ops_user):
    owner, _, _ = sales_team
    only_rule(days=90, manual_hold_days=30)
    customer = CustomerFactory(sales_owner=owner, lifecycle_status="dormant")
    today = timezone.localdate()
    _age(customer, today, 400)
    # ops moved it back to active by hand today
    customer_change_status(
        user=ops_user, customer=customer, to_status="active", reason="客户回访确认在用"
    )

    assert run_schedule(today.isoformat()).endswith("status_changes=0")
    later = today + dt.timedelta(days=31)
    assert run_schedule(later.isoformat()).endswith("status_changes=1")
    # and the manual change told the owner who did it and why
    manual = Notification.objects.filter(recipient=owner, title__contains="休眠 → 活跃").get()
    assert "客户回访确认在用" in manual.body


def test_dormant_for_long_becomes_churned_and_contract_end_suspends(only_rule, sales_team):
    owner, _, _ = sales_team
    only_rule(
        name="休眠满 180 天转流失",
        from_status="dormant",
        to_status="churned",
        condition="in_status_days",
        days=180,
    )
    only_rule(
        name="合同到期未续约转暂停",
        from_status="active",
        to_status="suspended",
        condition="contract_ended",
        days=0,
    )
    today = dt.date(2026, 12, 1)
    dormant = CustomerFactory(sales_owner=owner, lifecycle_status="dormant")
    _age(dormant, today, 200)
    ended = CustomerFactory(sales_owner=owner, lifecycle_status="active")
    RenewalFactory(customer=ended, expires_on=dt.date(2026, 11, 15))
    renewed = CustomerFactory(sales_owner=owner, lifecycle_status="active")
    RenewalFactory(customer=renewed, expires_on=dt.date(2026, 11, 15), status="renewed")

    run_schedule("2026-12-01")

    statuses = dict(Customer.objects.values_list("pk", "lifecycle_status"))
    assert statuses[dormant.pk] == "churned"
    assert statuses[ended.pk] == "suspended"
    assert statuses[renewed.pk] == "active"


def test_an_admin_cannot_save_a_rule_the_lifecycle_forbids():
    from django.core.exceptions import ValidationError

    rule = LifecycleRule(
        name="x", from_status="potential", to_status="dormant", condition="no_usage_days"
    )
    with pytest.raises(ValidationError, match="生命周期不允许"):
        rule.full_clean()


def test_payment_on_own_customer_tells_the_owner(
    sales_team, ops_user, django_capture_on_commit_callbacks
):
    from billing.payments.services import payment_allocate_oldest_first, payment_record

    owner, lead, outsider = sales_team
    customer = CustomerFactory(sales_owner=owner)
    issued_bill(user=ops_user, customer=customer, lines=("300.00",))
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_record(
            user=ops_user,
            customer=customer,
            amount=Decimal("300.00"),
            received_on=dt.date(2026, 11, 20),
            method="bank",
            bank_ref="P-1",
        )
        payment_allocate_oldest_first(user=ops_user, payment=payment)
    titles = list(Notification.objects.filter(recipient=owner).values_list("title", flat=True))
    assert any("收款 ¥300.00" in t for t in titles)
    assert any("核销 ¥300.00" in t for t in titles)
    assert not Notification.objects.filter(recipient=outsider).exists()
    assert len(mail.outbox) == 2
