"""Crash safety: SIGKILL a real Celery worker mid-job; after a restart the job completes on
retry, or the stuck-job sweeper marks it failed, and the database holds all of the rows
or none, with no duplicates.

The worker is a separate process (`celery worker`, Redis broker, this test's database),
killed while its job's transaction has written rows (pg_stat_activity shows a
transaction id). Acks are late, so the lost task stays unacknowledged in Redis and a
restarted worker receives it again once the visibility timeout has passed (5 s in the
test settings, 4 h in production, where the sweeper fails the job first: the redelivered
task then finds it finished and does nothing).

The import is slow enough to be caught while it writes. Bill generation is not (bills and
lines are two COPYs), so its test pins the kill point with a lock instead of timing: the
test's own connection holds the audit log table in EXCLUSIVE mode (reads pass, inserts
wait), and generation writes its one audit entry after the bills and the lines, in the
same transaction. The worker is killed once PostgreSQL shows its backend waiting on that
lock, and the test checks it then held uncommitted writes on the bill and line tables.
No hook in production code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from auditlog.models import LogEntry
from celery import Celery
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import Job
from accounts.services import STUCK_JOB_MESSAGE, job_create, jobs_fail_stuck
from billing.bills.services import bills_generate_for_period
from billing.models import Bill, BillLine
from customers.models import Customer
from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
    UsageRecordFactory,
)

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "customers_sample.xlsx"
OCT = date(2025, 10, 1)

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
    sender = _sender(require_redis)
    broker = redis.Redis.from_url(require_redis)
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
        _purge(broker, queue)
        sender.close()
        broker.close()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    created = job.result["新增"]
    assert created > 1000
    assert Customer.objects.count() == created
    ids = list(Customer.objects.values_list("company_id", flat=True))
    assert len(ids) == len(set(ids))


def _billable_customers(n: int) -> list[Customer]:
    series = DeviceSeriesFactory(code="L")
    customers = CustomerFactory.create_batch(n, billing_enabled=Customer.BillingEnabled.YES)
    for customer in customers:
        PricePlanFactory(customer=customer, series=series)
        UsageRecordFactory(customer=customer, series=series, shots=2)
    return customers


def _generation_job(user) -> Job:
    return job_create(
        kind="bills_generate",
        created_by=user,
        title="崩溃测试生成账单",
        params={"period": OCT.isoformat(), "customer_ids": None, "next_url": "/"},
    )


def _waiting_on_audit_log() -> int | None:
    """The backend of another session waiting for the audit log table's lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
            "WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
            "AND a.wait_event_type = 'Lock' AND NOT l.granted AND l.relation = %s::regclass",
            [LogEntry._meta.db_table],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _tables_written_uncommitted(pid: int) -> set[str]:
    """The tables backend `pid` has written in its open transaction (row-write locks held)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT l.relation::regclass::text FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.pid = %s AND l.granted "
            "AND l.mode = 'RowExclusiveLock' AND l.relation IS NOT NULL "
            "AND a.backend_xid IS NOT NULL",
            [pid],
        )
        return {row[0].strip('"') for row in cursor.fetchall()}


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def _job_finished(job: Job) -> bool:
    return Job.objects.filter(
        pk=job.pk, status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED]
    ).exists()


def _kill_generation_mid_write(*, job: Job, queue: str, sender: Celery, redis_url: str) -> set[str]:
    """Run `job` on a real worker and SIGKILL the worker once it has written the month's
    bills and lines; return, when PostgreSQL has dropped the dead backend, the tables its
    transaction had written and not committed when it was killed.

    The test's own connection holds the audit log table in EXCLUSIVE mode (reads pass,
    inserts wait), and generation writes its audit entry after the bills and the lines,
    in the same transaction: the worker stops there, mid-transaction, every time.
    """
    blocker = psycopg.connect(_database_url(), autocommit=True)
    worker = None
    try:
        blocker.execute("BEGIN")
        blocker.execute(f'LOCK TABLE "{LogEntry._meta.db_table}" IN EXCLUSIVE MODE')
        worker = _start_worker(queue, redis_url)
        sender.send_task("billing.tasks.bills_generate_task", args=[job.pk], queue=queue)

        def caught_mid_write() -> int | None:
            if worker.poll() is not None:
                pytest.fail("the worker exited before it could be caught mid-write")
            if _job_finished(job):
                job.refresh_from_db()
                pytest.fail(f"the generation ended before it was caught: {job.message}")
            return _waiting_on_audit_log()

        pid = _wait(caught_mid_write, timeout=120, what="the generation to reach its audit entry")
        written = _tables_written_uncommitted(pid)
        _kill(worker)
        # Released, the orphaned backend finds its client gone and aborts its transaction
        # (terminated if it lingers); a retry must not find the month's advisory lock held.
        blocker.execute("ROLLBACK")
        deadline = time.monotonic() + 10
        while _backend_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _backend_alive(pid):
            blocker.execute("SELECT pg_terminate_backend(%s)", [pid])
        _wait(lambda: not _backend_alive(pid), timeout=30, what="the dead worker's backend to end")
        return written
    finally:
        if worker is not None and worker.poll() is None:
            _kill(worker)
        blocker.close()


def _month_rows() -> tuple[list, list]:
    """Every bill and line as the database holds them, to compare before and after a kill."""
    bills = Bill.objects.order_by("pk").values_list(
        "pk", "customer_id", "number", "status", "total", "anomalies", "updated_at"
    )
    lines = BillLine.objects.order_by("bill_id", "position").values_list(
        "bill_id", "position", "line_type", "quantity", "unit_price", "amount"
    )
    return list(bills), list(lines)


def _assert_nothing_of_the_run_is_left(job: Job, audit_entries: int, rows: tuple) -> None:
    assert _month_rows() == rows
    assert LogEntry.objects.count() == audit_entries
    job.refresh_from_db()
    assert job.progress_done == 0  # its progress was written in the same transaction


def _assert_killed_mid_transaction(written: set[str]) -> None:
    """The kill landed after the bills and lines were written, before the commit."""
    assert written >= {Bill._meta.db_table, BillLine._meta.db_table}, (
        f"not killed mid-write (uncommitted writes on {sorted(written)}): does generation "
        "still write its audit entry after the bills and lines, in the same transaction?"
    )


def _assert_one_draft_each(customers: list[Customer]) -> None:
    bills = Bill.objects.filter(period=OCT)
    assert bills.count() == len(customers)
    assert set(bills.values_list("customer_id", flat=True)) == {c.pk for c in customers}
    assert set(bills.values_list("status", flat=True)) == {Bill.Status.DRAFT}
    for bill in bills.annotate(n_lines=Count("lines"), amount=Sum("lines__amount")):
        assert bill.n_lines >= 1
        assert bill.total == bill.amount
    positions = list(BillLine.objects.values_list("bill_id", "position"))
    assert len(positions) == len(set(positions))


def test_a_bill_generation_killed_mid_transaction_leaves_no_bill_and_completes_on_retry(
    require_redis, ops_user
):
    # given 30 billable customers with October usage and an October generation job
    customers = _billable_customers(30)
    job = _generation_job(ops_user)
    audit_entries = LogEntry.objects.count()
    assert _month_rows() == ([], [])
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    sender = _sender(require_redis)
    broker = redis.Redis.from_url(require_redis)
    worker = None
    try:
        # when its worker is SIGKILLed after writing the bills and lines, before committing
        written = _kill_generation_mid_write(
            job=job, queue=queue, sender=sender, redis_url=require_redis
        )
        # then nothing of the run is left, and the job is still "running"
        _assert_nothing_of_the_run_is_left(job, audit_entries, ([], []))
        _assert_killed_mid_transaction(written)
        assert job.status == Job.Status.RUNNING
        # and a restarted worker receives the task again and finishes the job
        worker = _start_worker(queue, require_redis)
        _wait(lambda: _job_finished(job), timeout=180, what="the retried generation to finish")
        # and acknowledges it: no copy is left in Redis to be delivered again
        _wait(lambda: _gone_from_broker(broker, queue), timeout=60, what="the acknowledgement")
    finally:
        if worker is not None and worker.poll() is None:
            _kill(worker)
        _purge(broker, queue)
        sender.close()
        broker.close()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result["账单"] == len(customers)
    # and every customer has exactly one October draft, its lines once
    _assert_one_draft_each(customers)
    # and the run is audited once: the dead attempt's entry went with its transaction
    assert LogEntry.objects.count() == audit_entries + 1
    # and generating the month again still gives one draft per customer
    assert bills_generate_for_period(period=OCT, user=ops_user).bills == len(customers)
    _assert_one_draft_each(customers)


def test_a_regeneration_killed_and_swept_as_failed_keeps_the_old_drafts_whole_and_runs_again(
    require_redis, ops_user
):
    # given 12 customers whose October drafts exist, then more October usage for each
    customers = _billable_customers(12)
    assert bills_generate_for_period(period=OCT, user=ops_user).bills == len(customers)
    series = DeviceSeriesFactory(code="L")
    for customer in customers:
        UsageRecordFactory(customer=customer, series=series, shots=3)
    before = _month_rows()
    old_totals = dict(Bill.objects.values_list("customer_id", "total"))
    # and a regeneration job whose worker is SIGKILLed after updating the drafts and
    # rewriting their lines, before committing
    job = _generation_job(ops_user)
    audit_entries = LogEntry.objects.count()
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    sender = _sender(require_redis)
    broker = redis.Redis.from_url(require_redis)
    worker = None
    try:
        written = _kill_generation_mid_write(
            job=job, queue=queue, sender=sender, redis_url=require_redis
        )
        # when the stuck-job sweeper runs after the job timeout
        later = timezone.now() + timedelta(seconds=settings.OPCMS_JOB_TIMEOUT_SECONDS + 60)
        assert [j.pk for j in jobs_fail_stuck(now=later)] == [job.pk]
        # then the job is failed with the message that nothing was kept, and the old
        # drafts and their lines are exactly as they were
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert job.message == STUCK_JOB_MESSAGE
        _assert_nothing_of_the_run_is_left(job, audit_entries, before)
        _assert_killed_mid_transaction(written)
        # and when a restarted worker receives the lost task again, it leaves the failed
        # job alone (the message is acknowledged only after the task has run)
        worker = _start_worker(queue, require_redis)
        _wait(
            lambda: _gone_from_broker(broker, queue),
            timeout=120,
            what="the redelivered task to be run and acknowledged",
        )
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert _month_rows() == before
        # and the clerk's new generation job reprices every draft in place, once each
        again = _generation_job(ops_user)
        sender.send_task("billing.tasks.bills_generate_task", args=[again.pk], queue=queue)
        _wait(lambda: _job_finished(again), timeout=120, what="the new generation to finish")
        _wait(lambda: _gone_from_broker(broker, queue), timeout=60, what="the acknowledgement")
    finally:
        if worker is not None and worker.poll() is None:
            _kill(worker)
        _purge(broker, queue)
        sender.close()
        broker.close()
    again.refresh_from_db()
    assert again.status == Job.Status.SUCCEEDED, again.message
    assert again.result["账单"] == len(customers)
    _assert_one_draft_each(customers)
    assert [row[0] for row in _month_rows()[0]] == [row[0] for row in before[0]]
    for customer_id, total in Bill.objects.values_list("customer_id", "total"):
        assert total > old_totals[customer_id]


def _sender(redis_url: str) -> Celery:
    """A Celery client publishing where the test worker listens (its key prefix)."""
    return Celery(
        "crash-sender",
        broker=redis_url,
        broker_transport_options=settings.REAL_WORKER_TRANSPORT_OPTIONS,
    )


def _key(name: str) -> str:
    return settings.REAL_WORKER_TRANSPORT_OPTIONS["global_keyprefix"] + name


def _gone_from_broker(broker: redis.Redis, queue: str) -> bool:
    """No message for `queue` waits in Redis or is delivered but unacknowledged (kombu keeps
    those in the "unacked" hash until the ack), for a whole second: between a worker's
    BRPOP and its HSET a message is in neither for a moment, never for a second."""
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        if broker.llen(_key(queue)) or any(
            queue.encode() in value for value in broker.hvals(_key("unacked"))
        ):
            return False
        time.sleep(0.02)
    return True


def _purge(broker: redis.Redis, queue: str) -> None:
    """Drop what a failed or interrupted test left of `queue` in Redis, where a later
    test's worker would restore it."""
    broker.delete(_key(queue))
    for tag, value in broker.hgetall(_key("unacked")).items():
        if queue.encode() in value:
            broker.hdel(_key("unacked"), tag)
            broker.zrem(_key("unacked_index"), tag)
