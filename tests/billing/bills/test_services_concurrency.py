"""Concurrent generation on PostgreSQL: one bill per customer and month, a second run is told."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections

from billing.bills.services import GENERATION_LOCK_CLASS, GenerationBusy, bills_generate_for_period
from billing.models import Bill
from customers.models import Customer
from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
    UsageRecordFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
OCT = date(2025, 10, 1)


def make_customers(n: int) -> None:
    series = DeviceSeriesFactory(code="L")
    for _ in range(n):
        customer = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
        PricePlanFactory(customer=customer, series=series)
        UsageRecordFactory(customer=customer, series=series, shots=2)


def test_concurrent_runs_never_duplicate(ops_user):
    make_customers(40)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            result = bills_generate_for_period(period=OCT, user=ops_user)
            outcomes.append(f"bills={result.bills}")
        except GenerationBusy:
            outcomes.append("busy")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(outcomes) == 4
    assert "bills=40" in outcomes
    assert set(outcomes) <= {"bills=40", "busy"}
    assert Bill.objects.filter(period=OCT).count() == 40
    assert Bill.objects.values("customer_id").distinct().count() == 40


def test_second_run_is_told_one_is_going(ops_user):
    make_customers(2)
    held = threading.Event()
    release = threading.Event()

    def hold_lock():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", [GENERATION_LOCK_CLASS, 202510])
            held.set()
            release.wait(10)
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", [GENERATION_LOCK_CLASS, 202510])
        connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    held.wait(10)
    try:
        with pytest.raises(GenerationBusy, match="2025-10 的账单正在由另一任务生成"):
            bills_generate_for_period(period=OCT, user=ops_user)
    finally:
        release.set()
        holder.join()
    assert bills_generate_for_period(period=OCT, user=ops_user).bills == 2
