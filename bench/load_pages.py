"""What each page of the load bench's mix costs: Django CPU, PostgreSQL CPU and queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opcms_bench .venv/bin/python \
        bench/load_pages.py [--repeat 20]

bench/load.py measures latency, which other work on a shared 2-core machine moves a lot.
This runs the same users' pages (the demo users of seed_demo, logged in through the login
form, production settings) in one process with Django's test client, and reads the CPU
this process and its PostgreSQL backend spend on each page: figures the load average
moves far less, and per page, so the owner of each page sees its share. The mix-weighted
sum is the CPU a request of bench/load.py costs the server (less gunicorn's own work).
No target of its own (the issue's target is bench/load.py's p95): it prints a budget
beside the figure. 100 users with 1 s think time ask about 70-90 requests/s; 2 cores give
2,000 ms of CPU a second, shared with the load generator, so a request may cost about 15 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import SERVER_ENV  # noqa: E402

os.environ.update(SERVER_ENV, ALLOWED_HOSTS="127.0.0.1,testserver")

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.management.commands.seed_demo import DEMO_PASSWORD  # noqa: E402
from bench._common import quiet, require_scratch_database, result, wipe_customers  # noqa: E402
from bench.load import MIX, pages_for  # noqa: E402

BUDGET_MS = 15.0
ME = psutil.Process()


def cpu_ms(process: psutil.Process) -> float:
    times = process.cpu_times()
    return (times.user + times.system) * 1000


def backend() -> psutil.Process:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return psutil.Process(cursor.fetchone()[0])


def page_cost(client: Client, path: str, repeat: int) -> tuple[int, float, float]:
    """(queries, Django ms, PostgreSQL ms) of one GET of `path`, the mean of `repeat`."""
    response = client.get(path)  # warm: templates compiled, connection open
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: HTTP {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    queries = len(captured)  # now: the next request empties the log it reads
    pg = backend()
    django_started, pg_started = cpu_ms(ME), cpu_ms(pg)
    for _ in range(repeat):
        client.get(path)
    return (
        queries,
        (cpu_ms(ME) - django_started) / repeat,
        (cpu_ms(pg) - pg_started) / repeat,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20, help="GETs a page is timed over")
    args = parser.parse_args()
    require_scratch_database()
    quiet()
    # The company's size (the demo's 1,318 customers), not what an earlier bench left.
    wipe_customers()
    call_command("seed_demo", verbosity=0)
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():  # the manifest templates need
        call_command("collectstatic", interactive=False, verbosity=0)

    yard = Client(secure=True)
    _, floor_ms, _ = page_cost(yard, reverse("accounts:login"), args.repeat)

    mix = Counter(MIX)
    weighted = {"queries": 0.0, "django": 0.0, "postgres": 0.0}
    print(f"{'user':10} {'page':42} {'share':>6} {'queries':>7} {'Django':>8} {'PG':>7}")
    for username in sorted(mix):
        client = Client(secure=True)
        login = client.post(
            reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD}
        )
        if login.status_code != 302:
            raise SystemExit(f"login of {username} failed: HTTP {login.status_code}")
        pages = pages_for(username)
        costs = {path: page_cost(client, path, args.repeat) for path in dict.fromkeys(pages)}
        for path, (queries, django_ms, pg_ms) in costs.items():
            share = mix[username] / len(MIX) * pages.count(path) / len(pages)
            weighted["queries"] += share * queries
            weighted["django"] += share * django_ms
            weighted["postgres"] += share * pg_ms
            print(
                f"{username:10} {path[:42]:42} {share:6.1%} {queries:7d} "
                f"{django_ms:6.1f}ms {pg_ms:5.1f}ms",
                flush=True,
            )
    total = weighted["django"] + weighted["postgres"]
    result(
        "load mix, CPU a request in one process",
        f"{total:.1f} ms (Django {weighted['django']:.1f}, PostgreSQL "
        f"{weighted['postgres']:.1f}), {weighted['queries']:.1f} queries",
        f"none (budget about {BUDGET_MS:g} ms for 100 users)",
        f"login page {floor_ms:.1f} ms",
        None,
    )


if __name__ == "__main__":
    main()
