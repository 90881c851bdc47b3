"""What every bench shares: the scratch database guard and the one result line format.

Each bench prints its human-readable lines and, per target, one machine-readable line:

    RESULT<TAB>path<TAB>figure<TAB>target<TAB>yardstick<TAB>pass|miss<TAB>load

`bench/run_all.py` (what `make bench` runs) collects those lines into one table. The load
average of the machine is printed beside every figure: on a shared 2-core host it moves
every figure.
"""

from __future__ import annotations

import os

RESULT_PREFIX = "RESULT\t"

# The environment production runs Django in (bench/load.py's gunicorn, bench/load_pages.py).
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "opcms.settings.production",
    "DEBUG": "0",
    "SECRET_KEY": "bench-load-only-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
}


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


def result(path: str, figure: str, target: str, yardstick: str, ok: bool | None) -> None:
    """Print one target's line (figure beside target and yardstick) for the summary table.

    `ok` None: a figure without a target (printed for information).
    """
    verdict = "n/a" if ok is None else "pass" if ok else "miss"
    print(f"  -> {path}: {figure} (target {target}; yardstick {yardstick}) {verdict}", flush=True)
    print(
        RESULT_PREFIX + "\t".join([path, figure, target, yardstick, verdict, load_average()]),
        flush=True,
    )


def require_scratch_database() -> None:
    """Benches truncate and bulk-insert: refuse any database not named opcms_bench*."""
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    if not str(name).startswith("opcms_bench") and not os.environ.get("BENCH_ANY_DATABASE"):
        raise SystemExit(
            f"refusing to bench against database {name!r}: point DATABASE_URL at a scratch "
            "database named opcms_bench* (make bench does), or set BENCH_ANY_DATABASE=1"
        )


def wipe_customers(*tables: str) -> None:
    """Remove every customer and what hangs off it (bills, payments, usage, plans: TRUNCATE
    CASCADE) and recompute the figures kept on write, which TRUNCATE does not reach (their
    tables have no foreign key), so a bench starts from the rows it creates, not from the
    100,000 customers an earlier bench of `make bench` left in the same database."""
    from django.db import connection

    from billing import money_totals
    from billing.collections import facts
    from customers.models import Customer

    names = [*tables, Customer.ops_owners.through._meta.db_table, Customer._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(names)} CASCADE")  # noqa: S608 - model tables
    money_totals.rebuild()
    facts.rebuild()


def quiet() -> None:
    """Per-request INFO logs (axes, audit) would bury the figures."""
    import logging

    logging.disable(logging.INFO)
