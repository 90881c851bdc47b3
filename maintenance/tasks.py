"""Scheduled operations: the nightly backup."""

from pathlib import Path

from celery import shared_task
from django.conf import settings

from .backups import backup_nightly
from .health import worker_heartbeat_record


@shared_task(name="maintenance.backup_nightly")
def backup_nightly_task() -> str:
    return str(backup_nightly(root=Path(settings.OPCMS_BACKUP_DIR)))


@shared_task(name="maintenance.worker_heartbeat")
def worker_heartbeat_task() -> float:
    return worker_heartbeat_record()
