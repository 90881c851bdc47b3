"""Crash safety: SIGKILL a real Celery worker mid-job; after a restart the job completes on
retry and the database holds all of the rows or none, with no duplicates.

Bill generation is one transaction under an advisory lock as well; its kill test is
still to come (the kill point could not be hit reliably in the time available).

The worker is a separate process (`celery worker`, Redis broker, this test's database),
killed while its import transaction has written rows (pg_stat_activity shows a
transaction id). Acks are late and a lost worker's task is rejected back to Redis, so
the restarted worker receives it again (test settings shorten the visibility timeout).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from accounts.models import Job
from accounts.services import job_create
from customers.models import Customer

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "customers_sample.xlsx"

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _start_worker(queue: str, redis_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opcms.settings.test",
        "OPCMS_TEST_REAL_WORKER": "1",
        "REDIS_URL": redis_url,
        "DATABASE_URL": _database_url(),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "opcms", "worker", "--pool", "solo",
         "-Q", queue, "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("OPCMS_WORKER_LOG", os.devnull), "a"),  # noqa: SIM115
    )  # fmt: skip


def _database_url() -> str:
    conf = connection.settings_dict
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf["PASSWORD"] else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


def _kill(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def _writing_backend_pids(table_prefix: str = "customers_") -> list[int]:
    """Other sessions on this database inside a transaction that has written something,
    busy with tables starting with `table_prefix`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL AND strpos(query, %s) > 0",
            [f'"{table_prefix}'],
        )
        return [row[0] for row in cursor.fetchall()]


def _wait(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


def test_a_customer_import_killed_mid_transaction_leaves_nothing_and_completes_on_retry(
    require_redis, ops_user
):
    # given an import job queued on a queue of its own, and a worker for it
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    job = job_create(
        kind="customer_import",
        created_by=ops_user,
        title="崩溃测试导入",
        params={"filename": SAMPLE.name, "series": "", "valid_from": "", "mapping": None},
        input_name=SAMPLE.name,
        input_bytes=SAMPLE.read_bytes(),
    )
    sender = Celery("crash-sender", broker=require_redis)
    worker = _start_worker(queue, require_redis)
    try:
        sender.send_task("billing.customer_import", args=[job.pk], queue=queue)
        # when the worker is SIGKILLed while its import transaction holds written rows
        _wait(_writing_backend_pids, timeout=120, what="the import transaction to write")
        _kill(worker)
        # then PostgreSQL rolls the transaction back: no customer is left, the job is "running"
        _wait(lambda: not _writing_backend_pids(), timeout=30, what="the rollback")
        assert Customer.objects.count() == 0
        job.refresh_from_db()
        assert job.status == Job.Status.RUNNING
        # and a restarted worker receives the task again and completes the whole import
        worker = _start_worker(queue, require_redis)
        _wait(
            lambda: (
                Job.objects.filter(pk=job.pk, status=Job.Status.SUCCEEDED).exists()
                or Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).first()
            ),
            timeout=180,
            what="the retried job to finish",
        )
    finally:
        if worker.poll() is None:
            _kill(worker)
        sender.close()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    created = job.result["新增"]
    assert created > 1000
    assert Customer.objects.count() == created
    ids = list(Customer.objects.values_list("company_id", flat=True))
    assert len(ids) == len(set(ids))
