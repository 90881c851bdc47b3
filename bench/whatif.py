"""Bench: the pricing what-if over 12 months for 100,000 customers (PostgreSQL).

    DATABASE_URL=postgres://... .venv/bin/python bench/whatif.py [--customers 100000]

Builds synthetic customers (company ids from 9,000,000), one plan each (the mix of
bench/generate_bills.py: per shoot, incremental, two tiered, annual) and two usage
records per customer and month over 2025, then times what the what-if job does with a
per-shoot candidate over the 12 months: `whatif_compute` and the JSON result file it
stores. Prints the seconds beside the target (10 s per 100,000 customers) and, as the
yardstick, the usage aggregate alone (one grouped SQL over every record: the floor any
re-pricing pays), with the load average. Setup time is not measured. The bench data is
removed afterwards (`--keep` leaves it for the next run). `--apply` also times
applying the candidate to every customer as new plan versions (one transaction).
`--customers 50` keeps it tiny for CI.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opcms.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from bench._common import quiet, require_scratch_database, result  # noqa: E402
from billing.bills.services import usage_month_keys  # noqa: E402
from billing.models import PricePlan, UsageRecord  # noqa: E402
from billing.plans.forms import PlanForm  # noqa: E402
from billing.pricing import PER_SHOOT, PlanTerms  # noqa: E402
from billing.whatif.documents import whatif_json  # noqa: E402
from billing.whatif.selectors import whatif_compute  # noqa: E402
from billing.whatif.services import whatif_apply  # noqa: E402
from customers.models import Customer, DeviceSeries  # noqa: E402

FIRST_ID = 9_000_000
TARGET_SECONDS = 10.0  # "seconds, not minutes" for 100,000 customers × 12 months
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_bills import cleanup, plan_for  # noqa: E402


def build(n: int) -> None:
    series, _ = DeviceSeries.objects.get_or_create(code="L", defaults={"name": "L 系列"})
    Customer.objects.bulk_create(
        [
            Customer(company_id=FIRST_ID + i, name=f"压测客户{i}", billing_enabled="yes")
            for i in range(n)
        ],
        batch_size=5000,
    )
    customers = list(Customer.objects.filter(company_id__gte=FIRST_ID).order_by("company_id"))
    PricePlan.objects.bulk_create(
        [plan_for(i, c, series) for i, c in enumerate(customers)], batch_size=5000
    )
    # Usage in one statement: two records per customer and month of 2025, pseudo-random
    # shoots and floors from the ids (a Python loop would take longer than the bench).
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO billing_usagerecord
                (customer_id, series_id, shot_date, shots, floors, source, note, created_at)
            SELECT c.id, %s, make_date(2025, m, (1 + (c.id * 7 + k * 13 + m) %% 28)::int),
                   1 + (c.id + m * k) %% 4, CASE WHEN (c.id + m + k) %% 5 = 0 THEN 3 ELSE 1 END,
                   'import', '', now()
            FROM customers_customer c, generate_series(1, 12) m, generate_series(1, 2) k
            WHERE c.company_id >= %s
            """,
            [series.pk, FIRST_ID],
        )
        # Statistics and no dead rows from an earlier run's cleanup, as autovacuum would
        # leave a live database (VACUUM runs outside a transaction: autocommit here).
        for table in ("customers_customer", "billing_priceplan", "billing_usagerecord"):
            cur.execute(f"VACUUM ANALYZE {table}")


def run(n: int, keep: bool, apply: bool) -> None:
    customers = Customer.objects.filter(company_id__gte=FIRST_ID)
    t0 = time.perf_counter()
    if customers.count() != n or not keep:
        cleanup()
        build(n)
    setup = time.perf_counter() - t0
    series = DeviceSeries.objects.get(code="L")
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        computed = whatif_compute(
            customers_qs=customers,
            series_id=series.pk,
            candidate=PlanTerms(kind=PER_SHOOT, single_price=Decimal("9")),
            first_month=date(2025, 1, 1),
            last_month=date(2025, 12, 1),
        )
        compute = time.perf_counter() - t0
        payload = whatif_json(computed)
        seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    usage_month_keys(
        UsageRecord.objects.filter(
            customer__in=customers,
            series_id=series.pk,
            shot_date__range=(date(2024, 2, 1), date(2025, 12, 31)),
        )
    )
    floor = time.perf_counter() - t0
    target = TARGET_SECONDS * n / 100_000
    print(
        f"whatif customers={n:,} months=12: {seconds:.2f} s (compute {compute:.2f} s, "
        f"result file {len(payload) / 1e6:.1f} MB {seconds - compute:.2f} s; "
        f"target ≤ {target:.2f} s, {TARGET_SECONDS:.0f} s per 100,000), "
        f"queries={len(queries.captured_queries)}, rows={len(computed.rows):,} "
        f"current={computed.current} candidate={computed.candidate} (setup {setup:.1f} s)"
    )
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:2]
    print("  slowest queries: " + "; ".join(f"{q['time']} s {q['sql'][:60]}" for q in slowest))
    assert len(computed.rows) == n
    result(
        f"what-if job @{n:,} customers x12 months",
        f"{seconds:.2f} s",
        f"<= {target:.2f} s",
        f"usage SQL aggregate alone {floor:.2f} s",
        seconds <= target,
    )
    if apply:
        time_apply(n, customers, series)
    if not keep:
        cleanup()


def time_apply(n: int, customers, series: DeviceSeries) -> None:
    """Apply the candidate to every bench customer from 2026-01 (what the apply job does)."""
    user, _ = User.objects.get_or_create(
        username="bench_ops", defaults={"role": Role.OPS, "full_name": "压测运营"}
    )
    # The candidate as the what-if page's plan form hands it over (every term, set or empty).
    form = PlanForm(
        {
            "kind": PER_SHOOT,
            "single_price": "9",
            "multi_rule": "unified",
            "tier_mode": "graduated",
            "tier_unit": "shoots",
            "fee_schedule": "upfront",
        }
    )
    assert form.is_valid(), form.errors
    t0 = time.perf_counter()
    applied = whatif_apply(
        user=user,
        customers_qs=customers,
        series=series,
        data=form.plan_data(),
        valid_from=date(2026, 1, 1),
    )
    seconds = time.perf_counter() - t0
    assert len(applied.created) == n, applied.refused[:3]
    print(f"whatif apply customers={n:,}: {seconds:.2f} s, {len(applied.created):,} new versions")
    result(f"what-if apply @{n:,} customers", f"{seconds:.2f} s", "-", "one transaction", None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000])
    parser.add_argument(
        "--keep", action="store_true", help="leave the bench data (and reuse it if the size fits)"
    )
    parser.add_argument(
        "--apply", action="store_true", help="also time applying the candidate to every customer"
    )
    args = parser.parse_args()
    require_scratch_database()
    quiet()
    call_command("migrate", verbosity=0)
    for n in args.customers:
        run(n, args.keep, args.apply)


if __name__ == "__main__":
    main()
