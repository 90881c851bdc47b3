"""WriteBehind: writes run in order, on the caller's connection and transaction, from a thread;
a failed write surfaces in the caller and stops the rest; a failing caller leaves nothing
in flight."""

import sys
import threading

import psycopg
import pytest
from django.db import connection, transaction

from customers.models import Tag
from opcms.write_behind import SWITCH_INTERVAL, WriteBehind

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = Tag._meta.db_table


def _insert(cursor, name, threads=None):
    if threads is not None:
        threads.append(threading.current_thread().name)
    cursor.execute(f"INSERT INTO {TABLE} (name) VALUES (%s)", [name])  # noqa: S608


def test_writes_run_in_order_in_the_callers_transaction_on_another_thread():
    threads: list[str] = []
    with transaction.atomic():
        with WriteBehind() as writes:
            for name in ("a", "b", "c"):
                writes.submit(_insert, name, threads)
        # Seen by the caller's connection before the commit: the same transaction.
        assert list(Tag.objects.order_by("pk").values_list("name", flat=True)) == ["a", "b", "c"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(DISTINCT xmin::text::bigint) FROM " + TABLE)  # noqa: S608
            assert cursor.fetchone() == (1,)
    assert threads and all(t.startswith("write-behind") for t in threads)
    assert threading.current_thread().name not in threads
    assert Tag.objects.count() == 3


def test_a_rolled_back_caller_takes_the_writes_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        with WriteBehind() as writes:
            writes.submit(_insert, "x")
        raise RuntimeError("the caller fails after the writes")
    assert not Tag.objects.exists()


def test_a_failed_write_raises_its_own_error_in_the_caller_and_later_writes_do_not_run():
    with pytest.raises(psycopg.errors.UniqueViolation), transaction.atomic():
        with WriteBehind() as writes:
            writes.submit(_insert, "dup")
            writes.submit(_insert, "dup")
            writes.submit(_insert, "after")
    assert not Tag.objects.exists()
    # The connection is usable again once the transaction is rolled back.
    assert Tag.objects.create(name="ok").pk


def test_a_caller_exception_cancels_queued_writes_and_waits_for_the_running_one():
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow(cursor):
        started.set()
        release.wait(5)
        cursor.execute("SELECT 1")
        ran.append("slow")

    def later(cursor):
        ran.append("later")

    with pytest.raises(ValueError), transaction.atomic():
        with WriteBehind() as writes:
            writes.submit(slow)
            writes.submit(later)
            assert started.wait(5)
            threading.Timer(0.2, release.set).start()
            raise ValueError("pricing failed")
    assert ran == [
        "slow"
    ]  # the running write finished before the rollback; the queued one never ran


def test_the_switch_interval_is_cut_inside_and_restored_after():
    before = sys.getswitchinterval()
    with WriteBehind():
        assert sys.getswitchinterval() == min(before, SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before
    with pytest.raises(KeyError), WriteBehind():
        raise KeyError("x")
    assert sys.getswitchinterval() == before


def test_a_write_that_uses_djangos_connection_is_refused_and_its_connection_closed():
    def outside(cursor):
        Tag.objects.create(name="outside")  # Django's connection of the writer thread

    with pytest.raises(RuntimeError, match="outside the caller's transaction"):
        with transaction.atomic(), WriteBehind() as writes:
            writes.submit(outside)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone() == (0,)
