"""Periodic tasks of the maintenance app in django-celery-beat, installed idempotently.

`schedules_install` takes the two model classes so a data migration can pass its
historical models and a post-migrate hook the real ones; running it again
changes nothing.
"""

from __future__ import annotations

from typing import Any

NIGHTLY_BACKUP_NAME = "每日备份（数据库与文件）"


def schedules_install(*, periodic_task: Any, crontab_schedule: Any, timezone: str) -> None:
    crontab, _ = crontab_schedule.objects.get_or_create(
        minute="0",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=timezone,
    )
    periodic_task.objects.update_or_create(
        name=NIGHTLY_BACKUP_NAME,
        defaults={"task": "maintenance.backup_nightly", "crontab": crontab, "enabled": True},
    )


def schedules_remove(*, periodic_task: Any) -> None:
    periodic_task.objects.filter(task="maintenance.backup_nightly").delete()
