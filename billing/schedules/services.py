"""The scheduler's day: which duties run on a date, running them once, and their beat entries.

Beat (django-celery-beat, times edited by admins on the schedules page) fires
one task per duty; `run_schedule --today` runs the same duties for a given day.
Each duty runs at most once per key day (accounts.ScheduleRun). The monthly
drafts are keyed by the month's configured day, so a run missed while the
system was down happens once on the next day it runs, not once per missed day.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from celery.schedules import crontab
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.notifications import digest_recipients_pending
from accounts.schedules import (
    schedule_digest_run,
    schedule_run_once,
    system_user,
)
from billing.bills.services import bills_generate_for_period
from billing.collections.services import promises_mark_broken
from billing.operations.backups import backup_nightly
from customers.reminders import attention_reminders_send, renewal_reminders_send
from opcms.months import month_shift

from .lifecycle_rules import lifecycle_rules_apply
from .reminders import drafts_ready_notify, overdue_reminders_send

TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Duty:
    key: str
    task: str  # the Celery task name beat fires
    title: str  # the PeriodicTask's name, as admins read it
    minute: str
    hour: str
    day_of_month: str = "*"
    monthly: bool = False  # keyed by the month's scheduled day (caught up once)


# In the order a day runs them: status rules first (reminders then see today's
# statuses), the digest after everything that may add to it, the backup last.
DUTIES: tuple[Duty, ...] = (
    Duty("lifecycle_rules", "billing.schedule_lifecycle_rules", "每晚执行生命周期规则", "30", "1"),
    Duty(
        "monthly_drafts",
        "billing.schedule_monthly_drafts",
        "每月生成上月草稿账单",
        "0",
        "2",
        day_of_month="3",
        monthly=True,
    ),
    Duty(
        "broken_promises",
        "billing.schedule_broken_promises",
        "每晚标记违约的付款承诺",
        "50",
        "6",
    ),
    Duty("reminders", "billing.schedule_reminders", "每晚逾期与到期提醒", "0", "7"),
    Duty("digest", "accounts.notifications_digest", "每日通知汇总邮件", "0", "8"),
    Duty("backup", "billing.backup_nightly", "每晚备份", "0", "3"),
)
DUTY_BY_KEY = {d.key: d for d in DUTIES}


def beat_schedules_seed(*, apps=None) -> int:
    """Create the beat entry of every duty that has none (idempotent; migrations call it)."""
    if apps is None:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask
    else:
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")  # noqa: N806
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")  # noqa: N806
    created = 0
    for duty in DUTIES:
        if PeriodicTask.objects.filter(task=duty.task).exists():
            continue
        row, _ = CrontabSchedule.objects.get_or_create(
            minute=duty.minute,
            hour=duty.hour,
            day_of_week="*",
            day_of_month=duty.day_of_month,
            month_of_year="*",
            timezone=TIMEZONE,
        )
        PeriodicTask.objects.create(
            name=duty.title, task=duty.task, crontab=row, kwargs=json.dumps({})
        )
        created += 1
    return created


def _crontab_for(duty: Duty):
    """The duty's timing as admins set it, or None when its schedule is switched off."""
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.filter(task=duty.task).select_related("crontab").first()
    if task is None:
        return crontab(minute=duty.minute, hour=duty.hour, day_of_month=duty.day_of_month)
    if not task.enabled or task.crontab is None:
        return None
    c = task.crontab
    return crontab(
        minute=c.minute,
        hour=c.hour,
        day_of_week=c.day_of_week,
        day_of_month=c.day_of_month,
        month_of_year=c.month_of_year,
    )


def _fires_on(cron, day: date) -> bool:
    weekday = (day.isoweekday()) % 7  # crontab counts Sunday as 0
    return (
        day.day in cron.day_of_month
        and day.month in cron.month_of_year
        and weekday in cron.day_of_week
    )


def duty_key_day(duty: Duty, today: date) -> date | None:
    """The day a run of `duty` on `today` counts for, or None when it is not due.

    Nightly duties: today, when the crontab fires today. Monthly duties: the
    latest scheduled day of this month on or before today (catch-up).
    """
    cron = _crontab_for(duty)
    if cron is None:
        return None
    if not duty.monthly:
        return today if _fires_on(cron, today) else None
    for day_number in range(today.day, 0, -1):
        candidate = today.replace(day=day_number)
        if _fires_on(cron, candidate):
            return candidate
    return None


# --- the duties ----------------------------------------------------------------


def _monthly_drafts(key_day: date) -> dict[str, int]:
    period = month_shift(key_day.replace(day=1), -1)
    result = bills_generate_for_period(period=period, user=system_user())
    told = drafts_ready_notify(period=period, bills=result.bills, anomalies=len(result.anomalies))
    return {
        "generated": result.bills,
        "anomalies": len(result.anomalies),
        "reminders": len(told.created),
        "emails": told.emails,
    }


def _reminders(key_day: date) -> dict[str, int]:
    totals = {"reminders": 0, "emails": 0}
    for send in (overdue_reminders_send, renewal_reminders_send, attention_reminders_send):
        counts = send(today=key_day)
        totals["reminders"] += counts.reminders
        totals["emails"] += counts.emails
    return totals


def _lifecycle(key_day: date) -> dict[str, int]:
    return lifecycle_rules_apply(today=key_day)


def _backup(key_day: date) -> dict[str, int]:
    backup_nightly(root=Path(settings.OPCMS_BACKUP_DIR))
    return {"backup": 1}


def _broken_promises(key_day: date) -> dict[str, int]:
    checked = promises_mark_broken(today=key_day)
    return {
        "promises_kept": checked.kept,
        "promises_broken": checked.broken,
        "reminders": checked.reminders,
        "emails": checked.emails,
    }


WORK: dict[str, Callable[[date], dict[str, int]]] = {
    "lifecycle_rules": _lifecycle,
    "monthly_drafts": _monthly_drafts,
    "broken_promises": _broken_promises,
    "reminders": _reminders,
    "backup": _backup,
}


def duty_run(*, key: str, today: date | None = None, dry_run: bool = False) -> dict[str, int]:
    """Run one duty for `today` if it is due and has not run for its key day; its counts.

    In a dry run the digest only counts the emails it would send and the backup is skipped:
    both act outside the database, where a rollback cannot undo them.
    """
    today = today or timezone.localdate()
    duty = DUTY_BY_KEY[key]
    key_day = duty_key_day(duty, today)
    if key_day is None:
        return {}
    if key == "digest":
        if dry_run:
            return {"emails": digest_recipients_pending()}
        return {"emails": schedule_digest_run(today=key_day)}
    if key == "backup" and dry_run:
        return {}
    title = f"{duty.title}（{key_day:%Y-%m-%d}）"
    run = schedule_run_once(schedule=key, day=key_day, title=title, work=lambda: WORK[key](key_day))
    return dict(run.summary) if run else {}


@dataclass
class DayOutcome:
    ran: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"generated": 0, "reminders": 0, "emails": 0, "status_changes": 0}
    )

    def summary_line(self) -> str:
        c = self.counts
        return (
            f"generated={c['generated']} reminders={c['reminders']} "
            f"emails={c['emails']} status_changes={c['status_changes']}"
        )


class _DryRunRollback(Exception):
    pass


def schedule_day_run(*, today: date, dry_run: bool = False) -> DayOutcome:
    """Everything the scheduler runs on `today`, in order. A dry run counts and rolls back
    (no email leaves: sends wait for a commit that never comes)."""
    outcome = DayOutcome()

    def run_all() -> None:
        for duty in DUTIES:
            counts = duty_run(key=duty.key, today=today, dry_run=dry_run)
            if counts:
                outcome.ran.append(duty.key)
            for name in outcome.counts:
                outcome.counts[name] += counts.get(name, 0)

    if not dry_run:
        run_all()
        return outcome
    try:
        with transaction.atomic():
            run_all()
            raise _DryRunRollback
    except _DryRunRollback:
        pass
    return outcome
