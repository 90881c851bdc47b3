"""Time the cockpit and the receivables report on 100,000 customers and 12 months of bills.

Run (a scratch database; `make bench` runs it with the others):
  DJANGO_SETTINGS_MODULE=opcms.settings.local \
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/opcms_bench .venv/bin/python bench/reports.py \
  [--customers 100000]

Data is generated in PostgreSQL itself (INSERT … SELECT over generate_series), once:
customers with company ids from 5,000,000 up; a rerun reuses them (--regenerate drops
and rebuilds). Per customer and month, 12 full months: one bill (75 % paid, 10 % partly
paid, 14 % issued, 1 % reversed with its credit note), one payment allocated to each paid
or partly paid bill, and one usage record. Each page is requested through the Django
test client (middleware, view, template; no network) and the server time and query
count are printed: the first (cold) run, then the median of the rest. Report aggregates
are cached under the money data version: the version is moved before each page, so the
cold run is the first read after a write: the receivables, the payment summary and the
sales home are judged by it. The tables are vacuumed after generation, as autovacuum does
on a database in use (index-only scans need the visibility map). The cockpit is
timed twice: recomputed on every request (?refresh=1), and as managers get it (from
the cache the beat job keeps warm). Set REDIS_URL to time it against Redis.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opcms.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from bench._common import quiet, require_scratch_database, result  # noqa: E402
from billing import money_totals  # noqa: E402
from billing.collections import facts  # noqa: E402
from customers.models import Customer, DeviceSeries  # noqa: E402
from customers.pinyin import name_sort_key  # noqa: E402
from opcms.months import month_shift  # noqa: E402
from reports.selectors import settlement_month  # noqa: E402

BASE_ID = 5_000_000
# Pages judged by the first read after a write (the cold run), not by the cached reads.
FIRST_READ_PATHS = {"receivables", "payment summary", "sales home"}
SALES_USERS = 20


def generate(customers: int) -> None:
    today = timezone.localdate()
    last = settlement_month(today)
    first = month_shift(last, -11)
    series, _ = DeviceSeries.objects.get_or_create(code="L", defaults={"name": "L 系列"})
    sales = [
        User.objects.get_or_create(
            username=f"bench_sales{i}", defaults={"role": Role.SALES, "full_name": f"销售{i}"}
        )[0].pk
        for i in range(SALES_USERS)
    ]
    started = time.perf_counter()
    # Through the ORM (model defaults filled in), so a new customer column cannot break it.
    levels, consumption = ["S", "A", "B", "C", "D", ""], ["C2", "C3", "C4", "C5", "C6", ""]
    key = name_sort_key("压测客户")  # the pinyin sort key, as every write path sets it
    Customer.objects.bulk_create(
        (
            Customer(
                company_id=BASE_ID + g,
                name=f"压测客户{g}",
                name_pinyin=f"{key} {g}",
                level=levels[g % 6],
                lifecycle_status="active",
                billing_enabled="no" if g % 20 == 0 else "yes",
                disabled=g % 97 == 0,
                settlement_method="per_shoot",
                consumption_level=consumption[g % 6],
                payment_terms_days=30,
                sales_owner_id=sales[g % len(sales)],
            )
            for g in range(1, customers + 1)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cur:
        print(f"  customers: {time.perf_counter() - started:.1f} s")
        cur.execute(
            """
            CREATE TEMP TABLE bench_base AS
            SELECT c.id AS cid, c.company_id, p::date AS period, random() AS r,
                   round((50 + random() * 4950)::numeric, 2) AS total
            FROM customers_customer c
            CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 month') p
            WHERE c.company_id > %(base)s AND c.billing_enabled = 'yes'
            """,
            {"first": first, "last": last, "base": BASE_ID},
        )
        cur.execute(
            """
            INSERT INTO billing_bill (number, kind, period, status, total, amount_paid, reason,
              anomalies, due_date, issued_at, generated_at, updated_at, customer_id)
            SELECT 'BILL-' || to_char(period, 'YYYYMM') || '-' || company_id, 'bill', period,
              CASE WHEN r < 0.75 THEN 'paid' WHEN r < 0.85 THEN 'partially_paid'
                   WHEN r < 0.99 THEN 'issued' ELSE 'reversed' END,
              total,
              CASE WHEN r < 0.75 THEN total WHEN r < 0.85 THEN round(total * 0.4, 2) ELSE 0 END,
              '', '[]', (period + interval '2 month' - interval '1 day')::date, now(), now(),
              now(), cid
            FROM bench_base
            """
        )
        cur.execute(
            """
            INSERT INTO billing_bill (number, kind, period, status, total, amount_paid, reason,
              anomalies, due_date, issued_at, generated_at, updated_at, customer_id, reverses_id)
            SELECT 'CN' || substr(number, 5) || '-1', 'credit_note', period, 'issued', -total, 0,
              '压测冲正', '[]', due_date, now(), now(), now(), customer_id, id
            FROM billing_bill WHERE status = 'reversed' AND number LIKE 'BILL-%%'
            """
        )
        print(f"  bills: {time.perf_counter() - started:.1f} s")
        cur.execute(
            """
            INSERT INTO billing_payment (amount, allocated, received_on, method, bank_ref, payer,
              note, created_at, customer_id)
            SELECT amount_paid, amount_paid, due_date - 10, 'bank', '', '', 'bench ' || id,
              now(), customer_id
            FROM billing_bill WHERE amount_paid > 0
            """
        )
        cur.execute(
            """
            INSERT INTO billing_paymentallocation (amount, created_at, undo_reason, bill_id,
              payment_id)
            SELECT amount, now(), '', substr(note, 7)::bigint, id
            FROM billing_payment WHERE note LIKE 'bench %%'
            """
        )
        print(f"  payments and allocations: {time.perf_counter() - started:.1f} s")
        # Every 50th customer falls to 1 shot in the last month: churn warnings to find.
        cur.execute(
            """
            INSERT INTO billing_usagerecord (shot_date, shots, floors, source_ref, source, note,
              created_at, customer_id, series_id)
            SELECT period + 14,
              CASE WHEN company_id %% 50 = 0 AND period = %(last)s THEN 1
                   ELSE 5 + floor(r * 40)::int END,
              1 + floor(random() * 3)::int, 'BENCH-' || company_id || '-' || to_char(period, 'YYYYMM'),
              'import', '', now(), cid, %(series)s
            FROM bench_base
            """,
            {"last": last, "series": series.pk},
        )
        print(f"  usage: {time.perf_counter() - started:.1f} s")
        cur.execute("DROP TABLE bench_base")
    # drop() removed the previous rows with triggers off: recompute the money totals the
    # reports read (billing/money_totals.py) from the rows now there.
    money_totals.rebuild()
    # VACUUM as autovacuum does on a database in use: without it no page of the fresh tables
    # is marked all-visible, and every index-only scan fetches the heap as well. VACUUM
    # cannot run in a transaction block: the connection's autocommit is on here.
    with connection.cursor() as cur:
        for table in (
            "customers_customer",
            "billing_bill",
            "billing_payment",
            "billing_paymentallocation",
            "billing_usagerecord",
            "billing_billtotal",
            "billing_paymenttotal",
            "billing_customerpaymenttotal",
        ):
            cur.execute(f"VACUUM (ANALYZE) {table}")  # noqa: S608 - fixed table names


def drop() -> None:
    # Issued bills and credit notes are frozen by triggers (billing/freeze.py), which also
    # refuse their deletion; on this scratch database (require_scratch_database) the bench
    # removes its own rows with triggers off for the transaction (the bench runs as the
    # database superuser, as make bench's local server and CI's do).
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        ids = "SELECT id FROM customers_customer WHERE company_id > %s"
        cur.execute(f"DELETE FROM billing_usagerecord WHERE customer_id IN ({ids})", [BASE_ID])  # noqa: S608
        cur.execute(
            f"DELETE FROM billing_paymentallocation WHERE payment_id IN "  # noqa: S608
            f"(SELECT id FROM billing_payment WHERE customer_id IN ({ids}))",
            [BASE_ID],
        )
        cur.execute(f"DELETE FROM billing_payment WHERE customer_id IN ({ids})", [BASE_ID])  # noqa: S608
        cur.execute(
            f"DELETE FROM billing_bill WHERE customer_id IN ({ids}) AND kind = 'credit_note'",  # noqa: S608
            [BASE_ID],
        )
        cur.execute(f"DELETE FROM billing_bill WHERE customer_id IN ({ids})", [BASE_ID])  # noqa: S608
        cur.execute("DELETE FROM customers_customer WHERE company_id > %s", [BASE_ID])
    # With triggers off, the figures kept on write did not follow: recompute them.
    money_totals.rebuild()
    facts.rebuild()


def measure(client: Client, url: str, runs: int) -> tuple[float, float, int, int]:
    timings, queries, size = [], 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries, size = len(captured), len(response.content)
    return timings[0], statistics.median(timings[1:] or timings), queries, size


def yardstick_ms() -> float:
    """The floor: one plain scan-and-aggregate of the bills table in SQL (best of 3)."""
    timings = []
    with connection.cursor() as cur:
        for _ in range(3):
            started = time.perf_counter()
            cur.execute(
                "SELECT status, count(*), sum(total - amount_paid) FROM billing_bill GROUP BY 1"
            )
            cur.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    require_scratch_database()
    quiet()

    have = Customer.objects.filter(company_id__gt=BASE_ID).count()
    if args.regenerate or have != args.customers:
        print(f"generating {args.customers:,} customers with 12 months of data …")
        drop()
        generate(args.customers)
    with connection.cursor() as cur:
        counts = {}
        for table in ("billing_bill", "billing_payment", "billing_usagerecord"):
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
            counts[table] = cur.fetchone()[0]
    print(
        f"data: {Customer.objects.count():,} customers, {counts['billing_bill']:,} bills, "
        f"{counts['billing_payment']:,} payments, {counts['billing_usagerecord']:,} usage records"
    )

    manager, _ = User.objects.get_or_create(
        username="bench_manager", defaults={"role": Role.MANAGER, "full_name": "压测经理"}
    )
    sales = User.objects.get(username="bench_sales1")
    # (label, user, url, target ms, issue-table path or "" for information only)
    pages = [
        (
            "cockpit computed (?refresh=1)",
            manager,
            reverse("home") + "?refresh=1",
            1000,
            "cockpit recomputed",
        ),
        ("cockpit (home, manager, cached)", manager, reverse("home"), 300, ""),
        ("receivables (manager)", manager, reverse("reports:receivables"), 300, "receivables"),
        (
            "receivables, page 200 (manager)",
            manager,
            reverse("reports:receivables") + "?page=200",
            300,
            "",
        ),
        ("payment summary (manager)", manager, reverse("reports:payments"), 300, "payment summary"),
        ("settlement status (manager)", manager, reverse("reports:settlement"), 1000, ""),
        ("home (sales)", sales, reverse("home"), 300, "sales home"),
        ("receivables (sales)", sales, reverse("reports:receivables"), 300, ""),
        # The scorecard over the 12 months (go-live the 4th: three baseline months before it).
        (
            "scorecard computed (?refresh=1)",
            manager,
            reverse("reports:scorecard") + "?refresh=1",
            3000,
            "scorecard recomputed",
        ),
        ("scorecard (manager, cached)", manager, reverse("reports:scorecard"), 300, ""),
    ]
    settings.OPCMS_GO_LIVE = month_shift(settlement_month(timezone.localdate()), -8).strftime(
        "%Y-%m"
    )
    floor = yardstick_ms()
    print(f"yardstick: one SQL aggregate over all bills {floor:.0f} ms")
    print(f"{'page':36} {'cold ms':>9} {'median ms':>10} {'queries':>8} {'target':>7}")
    for label, user, url, target, path in pages:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        # Report aggregates are cached under the money data version (billing/data_version.py):
        # move it, as any write to bills or payments does, so the cold run is the first read
        # after a write and the median the reads that follow.
        with connection.cursor() as cur:
            cur.execute("SELECT nextval('billing_data_version')")
        cold, median, queries, _size = measure(client, url, args.runs)
        # The report pages' target is the first read after a write (a cached read is the
        # easy case); the recomputed pages recompute on every request (their median).
        first_read = path in FIRST_READ_PATHS
        judged = cold if first_read else median
        verdict = "ok" if judged <= target else "SLOW"
        print(f"{label:36} {cold:9.0f} {median:10.0f} {queries:8d} {target:6d} {verdict}")
        if path:
            result(
                f"{path} @{args.customers:,}x12",
                f"first read after a write {cold:.0f} ms (cached reads {median:.0f} ms)"
                if first_read
                else f"{median:.0f} ms (first read after a write {cold:.0f} ms)",
                f"<= {target} ms",
                f"SQL aggregate of all bills {floor:.0f} ms",
                judged <= target,
            )


if __name__ == "__main__":
    main()
