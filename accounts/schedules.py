"""Scheduled duties: run each once per day (or per period) as a recorded Job; edit their timing.

The ScheduleRun row is claimed before the work starts, under a unique
(schedule, day) constraint, so the same day run twice (beat firing after a
restart, a clerk running the command by hand) does nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from .models import Job, ScheduleRun, User
from .notifications import notifications_digest_send
from .roles import Role, is_admin
from .services import JobProgress, job_create, job_run

SYSTEM_USERNAME = "system"

# Labels of the machine counts a duty returns, as the job page shows them.
COUNT_LABELS = {
    "generated": "生成账单",
    "anomalies": "异常",
    "reminders": "提醒",
    "emails": "邮件",
    "status_changes": "状态变更",
    "backup": "备份",
}


def system_user() -> User:
    """The actor of scheduled work (an admin that cannot log in), created on first use."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        user = User(username=SYSTEM_USERNAME, full_name="系统", role=Role.ADMIN, is_active=True)
        user.set_unusable_password()
        user.save()
    return user


def schedule_run_once(
    *,
    schedule: str,
    day: date,
    title: str,
    work: Callable[[], dict[str, int]],
) -> ScheduleRun | None:
    """Run `work` as a Job unless (schedule, day) already ran; returns the run, None if skipped.

    A failed run gives its claim back, so the next tick (or a hand-run command)
    tries again; a succeeded one is never repeated.
    """
    try:
        with transaction.atomic():
            run = ScheduleRun.objects.create(schedule=schedule, day=day)
    except IntegrityError:
        return None
    job = job_create(
        kind=f"schedule:{schedule}", created_by=None, title=title, params={"day": day.isoformat()}
    )
    counts: dict[str, int] = {}

    def _work(job: Job, progress: JobProgress) -> dict[str, Any]:
        progress(0, 1)
        counts.update(work())
        progress(1)
        return {COUNT_LABELS.get(k, k): v for k, v in counts.items()}

    job = job_run(job_id=job.pk, work=_work)
    if job.status == Job.Status.FAILED:
        run.delete()
        return None
    run.job = job
    run.summary = counts
    run.save(update_fields=["job", "summary"])
    return run


def schedule_digest_run(*, today: date | None = None) -> int:
    """The daily digest email, once per day; returns emails sent."""
    today = today or timezone.localdate()
    run = schedule_run_once(
        schedule="digest",
        day=today,
        title=f"{today:%Y-%m-%d} 通知汇总邮件",
        work=lambda: {"emails": notifications_digest_send()},
    )
    return run.summary.get("emails", 0) if run else 0


# --- the schedules page --------------------------------------------------------


CRONTAB_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def periodic_task_update(
    *, user: User, task: PeriodicTask, enabled: bool, crontab: dict[str, str] | None = None
) -> PeriodicTask:
    """Turn a schedule on or off and change its timing (admins only; audited).

    A crontab row may be shared by several schedules, so a new timing gets its
    own row instead of editing the shared one.
    """
    if not is_admin(user):
        raise PermissionDenied("只有管理员可以修改计划任务")
    with transaction.atomic(), set_actor(user):
        fields = ["enabled"]
        task.enabled = enabled
        if crontab is not None:
            values = {f: (crontab.get(f) or "*").strip() for f in CRONTAB_FIELDS}
            try:
                from celery.schedules import crontab as celery_crontab

                celery_crontab(**values)
            except (ValueError, TypeError) as exc:
                raise ValidationError(f"时间表达式无效：{exc}") from exc
            timezone_name = task.crontab.timezone if task.crontab_id else "Asia/Shanghai"
            row, _ = CrontabSchedule.objects.get_or_create(**values, timezone=timezone_name)
            task.crontab = row
            fields.append("crontab")
        task.save(update_fields=fields)
    return task
