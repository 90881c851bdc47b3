"""Bench: bulk usage ingest through the REST API, over loopback HTTP, end to end.

Sends 10,000 usage records in one POST /api/usage/ingest/ request to a WSGI
server on 127.0.0.1 (the whole stack: middleware, JWT, body limit, JSON
parse, usage_ingest, response), then re-sends the same batch, which must
create nothing. Targets: first < 2 s, resend < 1 s. Run on PostgreSQL:

    DJANGO_SETTINGS_MODULE=opcms.settings.local \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opcms_bench .venv/bin/python bench/api_ingest.py \
    [--records 10000]

Creates a bench user, series L and 200 customers (company ids 9,000,000+) if
missing and removes earlier bench usage (source_ref BENCH-*) first.

Measured after the merge (real billing.usage.services.usage_ingest, one unnest() insert on
PostgreSQL, 2-CPU shared host, 7 runs): first send 0.43-1.00 s, resend 0.13-0.30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opcms.settings.local")
os.environ.setdefault("API_THROTTLE_USER", "100000/minute")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from accounts.services import user_create  # noqa: E402
from bench._common import quiet, require_scratch_database, result  # noqa: E402
from billing.api import views as api_views  # noqa: E402
from billing.models import UsageRecord  # noqa: E402
from customers.models import Customer, DeviceSeries  # noqa: E402
from opcms.wsgi import application  # noqa: E402

RECORDS = 10_000
CUSTOMERS = 200
PASSWORD = "bench-ingest-Passw0rd"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def prepare() -> None:
    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="bench_api").exists():
        user_create(username="bench_api", password=PASSWORD, role=Role.OPS, full_name="压测")
    DeviceSeries.objects.get_or_create(code="L", defaults={"name": "L 系列"})
    existing = set(
        Customer.objects.filter(company_id__gte=9_000_000).values_list("company_id", flat=True)
    )
    Customer.objects.bulk_create(
        [
            Customer(company_id=9_000_000 + i, name=f"压测客户{i}", name_pinyin=f"ya ce ke hu {i}")
            for i in range(CUSTOMERS)
            if 9_000_000 + i not in existing
        ]
    )
    UsageRecord.objects.filter(source_ref__startswith="BENCH-").delete()


def batch() -> bytes:
    start = date(2025, 10, 1)
    records = [
        {
            "company_id": 9_000_000 + i % CUSTOMERS,
            "series": "L",
            "shot_date": (start + timedelta(days=i % 31)).isoformat(),
            "floors": 1 + i % 4,
            "shots": 1 + i % 3,
            "area": None,
            "source_ref": f"BENCH-{i:06d}",
        }
        for i in range(RECORDS)
    ]
    return json.dumps({"records": records}).encode()


def post(url: str, body: bytes, token: str | None = None) -> tuple[int, dict, float]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:  # noqa: S310 (loopback only)
        payload = json.loads(response.read())
        status = response.status
    return status, payload, time.perf_counter() - started


SERVICE_SECONDS: list[float] = []


def _timed_ingest(original):
    """Wraps usage_ingest so the report can split the API layer's share from the service's."""

    def timed(**kwargs):
        started = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            SERVICE_SECONDS.append(time.perf_counter() - started)

    return timed


def main() -> None:
    global RECORDS
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=RECORDS)
    RECORDS = parser.parse_args().records
    require_scratch_database()
    quiet()
    api_views.usage_ingest = _timed_ingest(api_views.usage_ingest)
    prepare()
    connection.close()  # the server thread opens its own connection
    server = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        body = batch()
        _, tokens, _ = post(
            f"{base}/api/token/",
            json.dumps({"username": "bench_api", "password": PASSWORD}).encode(),
        )
        url = f"{base}/api/usage/ingest/"
        status1, first, t1 = post(url, body, tokens["access"])
        status2, second, t2 = post(url, body, tokens["access"])
    finally:
        server.shutdown()

    print(f"body {len(body) / 1024 / 1024:.2f} MB, {RECORDS:,} records")
    print(
        f"first send : HTTP {status1}, created {first['created']:,}, "
        f"duplicates {first['duplicates']:,}, errors {len(first['errors'])}, {t1:.3f} s (target < 2 s)"
        f"; in usage_ingest {SERVICE_SECONDS[0]:.3f} s"
    )
    print(
        f"resend     : HTTP {status2}, created {second['created']:,}, "
        f"duplicates {second['duplicates']:,}, errors {len(second['errors'])}, {t2:.3f} s (target < 1 s)"
        f"; in usage_ingest {SERVICE_SECONDS[1]:.3f} s"
    )
    stored = UsageRecord.objects.filter(source_ref__startswith="BENCH-").count()
    print(f"stored BENCH-* records: {stored:,}")
    correct = (
        first["created"] == RECORDS
        and second["created"] == 0
        and second["duplicates"] == RECORDS
        and stored == RECORDS
    )
    result(
        f"API usage ingest {RECORDS:,} records, first send",
        f"{t1:.2f} s",
        "< 2 s",
        f"in usage_ingest {SERVICE_SECONDS[0]:.2f} s",
        t1 < 2,
    )
    result(
        f"API usage ingest {RECORDS:,} records, resend",
        f"{t2:.2f} s",
        "< 1 s",
        f"in usage_ingest {SERVICE_SECONDS[1]:.2f} s",
        t2 < 1,
    )
    if not correct:
        print("FAIL: the ingest stored the wrong records")
    sys.exit(0 if correct else 1)


if __name__ == "__main__":
    main()
