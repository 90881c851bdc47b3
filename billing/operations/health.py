"""The checks behind /healthz: database, Redis, the worker's heartbeat, the last backup's age."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from .backups import last_backup_at

HEARTBEAT_KEY = "opcms:worker-heartbeat"


def worker_heartbeat_record() -> float:
    """Called by the worker every minute (scheduled by beat): proves broker, beat and worker."""
    now = time.time()
    cache.set(HEARTBEAT_KEY, now, timeout=24 * 60 * 60)
    return now


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "detail": "未配置 Redis：任务在进程内执行"}
    import redis

    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    return {"ok": True}


def _worker() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "detail": "未配置 Redis：任务在进程内执行"}
    beat = cache.get(HEARTBEAT_KEY)
    if beat is None:
        return {"ok": False, "detail": "没有后台进程的心跳"}
    age = int(time.time() - float(beat))
    return {"ok": age <= settings.OPCMS_WORKER_HEARTBEAT_MAX_AGE, "age_seconds": age}


def _backup() -> dict[str, Any]:
    at = last_backup_at(root=Path(settings.OPCMS_BACKUP_DIR))
    if at is None:
        return {"ok": False, "detail": "还没有备份"}
    age_hours = (timezone.now() - at).total_seconds() / 3600
    return {
        "ok": age_hours <= settings.OPCMS_BACKUP_MAX_AGE_HOURS,
        "last": at.isoformat(),
        "age_hours": round(age_hours, 1),
    }


CHECKS = {"database": _database, "redis": _redis, "worker": _worker, "backup": _backup}
# The web container's own health: what the web process needs to answer requests.
WEB_CHECKS = ("database", "redis")


def health_report(*, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name, check in CHECKS.items():
        if only and name not in only:
            continue
        try:
            report[name] = check()
        except Exception as exc:  # a failing dependency is the answer, not an error
            report[name] = {"ok": False, "detail": type(exc).__name__}
    return {"ok": all(r["ok"] for r in report.values()), "checks": report}
