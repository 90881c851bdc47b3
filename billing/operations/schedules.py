"""Periodic tasks of billing.operations in django-celery-beat (heartbeat, stuck jobs), installed idempotently.

`schedules_install` takes the two model classes so a data migration can pass its
historical models and a post-migrate hook the real ones; running it again
changes nothing.
"""

from __future__ import annotations

from typing import Any

HEARTBEAT_NAME = "后台进程心跳（/healthz）"
STUCK_JOBS_NAME = "标记超时未完成的任务为失败"


def schedules_install(
    *, periodic_task: Any, crontab_schedule: Any, interval_schedule: Any, timezone: str
) -> None:
    every_minute, _ = interval_schedule.objects.get_or_create(every=60, period="seconds")
    periodic_task.objects.update_or_create(
        name=HEARTBEAT_NAME,
        defaults={
            "task": "billing.worker_heartbeat",
            "interval": every_minute,
            "enabled": True,
            # A heartbeat nobody picked up within a minute is worthless.
            "expire_seconds": 60,
        },
    )
    every_five_minutes, _ = interval_schedule.objects.get_or_create(every=300, period="seconds")
    periodic_task.objects.update_or_create(
        name=STUCK_JOBS_NAME,
        defaults={
            "task": "accounts.jobs_fail_stuck",
            "interval": every_five_minutes,
            "enabled": True,
        },
    )


def schedules_remove(*, periodic_task: Any) -> None:
    periodic_task.objects.filter(
        task__in=[
            "billing.worker_heartbeat",
            "accounts.jobs_fail_stuck",
        ]
    ).delete()
