"""Load bench: N users log in through the real login form and click through their usual pages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opcms_bench .venv/bin/python bench/load.py \
        [--users 20 50 100] [--duration 60] [--think 1.0] [--workers 4]

Starts gunicorn on 127.0.0.1 (a free port) as production runs it: opcms.settings.production,
DEBUG=0, 4 workers, static files collected and served by WhiteNoise. The client sends
X-Forwarded-Proto: https as the TLS proxy in front of production does (secure cookies and
CSRF then work as they do there). Users are the demo users of seed_demo, mixed like the
company: mostly ops and sales, a team lead, a manager; each user requests its role's pages
with a think time (uniform 0.5-1.5 x --think) for --duration seconds, then stops.
Prints p50/p95/p99, errors, requests/s and the CPU a request costs the server (gunicorn,
PostgreSQL) and this client, per user count. Pages are fetched with http.client (--client
requests: the heavier client used before). Loopback only, bounded in users
(at most 200) and time (at most 600 s a round). Targets: 20 users p95 <= 200 ms,
50 users <= 500 ms, 100 users <= 300 ms; the yardstick is the p50 of GET /accounts/login/
(no session, no query) with one user on the same server.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opcms.settings.local")

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.management.commands.seed_demo import DEMO_PASSWORD  # noqa: E402
from accounts.models import User  # noqa: E402
from bench._common import (  # noqa: E402
    SERVER_ENV,
    load_average,
    quiet,
    require_scratch_database,
    result,
    wipe_customers,
)
from customers.selectors import scoped_customers  # noqa: E402

TARGETS = {20: 200, 50: 500, 100: 300}  # users: p95 ms
# The company's mix: ops and sales most, one team lead, a manager now and then.
MIX = ["ops", "sales1", "ops2", "sales2", "ops", "saleslead", "sales1", "ops2", "manager", "sales2"]


class ProxiedSession(requests.Session):
    """A browser behind the TLS proxy: Secure cookies go back over plain http to 127.0.0.1.

    (requests keeps Secure cookies from http URLs; the header is written by hand.)
    """

    def request(self, method, url, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        headers["X-Forwarded-Proto"] = "https"
        return super().request(method, url, headers=headers, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pages_for(username: str) -> list[str]:
    user = User.objects.get(username=username)
    ids = list(scoped_customers(user).order_by("-pk").values_list("pk", flat=True)[:40])
    details = [reverse("customers:customer-detail", args=[pk]) for pk in ids] or ["/customers/"]
    common = [reverse("home"), reverse("customers:customer-list")]
    if user.role == "manager":
        return common + [
            reverse("reports:receivables"),
            reverse("reports:payments"),
            reverse("reports:settlement"),
            reverse("home"),
            *details[:2],
        ]
    if user.role == "ops":
        return common + [
            reverse("customers:customer-list") + "?q=链家",
            reverse("customers:customer-list") + "?level=A&sort=name",
            reverse("billing:bill-list"),
            reverse("billing:payment-list"),
            *details[:4],
        ]
    return (
        common
        + [  # sales and the team lead
            reverse("customers:customer-list") + "?sort=name",
            reverse("reports:receivables"),
            *details[:4],
        ]
    )


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV}
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():  # WhiteNoise's manifest
        subprocess.run(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
            env=env,
            check=True,
            cwd=ROOT,
        )
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "opcms.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    for _ in range(120):
        try:
            requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=30)
            return server
        except requests.RequestException:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def login(base: str, username: str) -> requests.Session:
    session = ProxiedSession()
    url = base + reverse("accounts:login")
    page = session.get(url, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        url,
        data={"csrfmiddlewaretoken": token, "username": username, "password": DEMO_PASSWORD},
        headers={"Referer": url.replace("http://", "https://")},
        timeout=30,
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise SystemExit(f"login of {username} failed: HTTP {response.status_code}")
    return session


def fetch(base: str, path: str, cookie: str) -> int:
    """One page as the browser behind the proxy asks for it; the status code.

    Plain http.client, not requests: on this 2-core machine the client shares the CPU with
    the server, and requests spent about 2 ms of it a page (cookie jar, adapters, hooks).
    gunicorn's sync workers close the connection after each answer, as requests saw too.
    """
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def user_loop(base, session, pages, deadline, think, timings, errors, lock, seed, client):
    rng = random.Random(seed)  # noqa: S311 - bench timing, not security
    # The cookies of the login (session, CSRF): the session key changes only at login.
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    pages = [quote(path, safe="/?=&") for path in pages]
    while time.monotonic() < deadline:
        path = rng.choice(pages)
        started = time.perf_counter()
        try:
            if client == "requests":
                response = session.get(base + path, timeout=30, allow_redirects=False)
                ok = response.status_code == 200
            else:
                ok = fetch(base, path, cookie) == 200
        except (OSError, requests.RequestException):
            ok = False
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            timings.append(elapsed)
            if not ok:
                errors.append(path)
        time.sleep(think * rng.uniform(0.5, 1.5))


class CpuMeter:
    """CPU seconds spent by the server (gunicorn master and workers, their PostgreSQL
    backends) and by this client during a round: what a request costs, which the load
    average of a shared machine moves far less than latency. A sampler thread reads
    /proc every 0.5 s, so a backend that closes (CONN_MAX_AGE) keeps what it had spent.
    """

    def __init__(self, server: subprocess.Popen, database: str):
        self.server = psutil.Process(server.pid)
        self.database = database
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self.stop = threading.Event()

    def _pids(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.database],
            )
            backends = [("postgres", pid) for (pid,) in cursor.fetchall()]
        workers = [self.server, *self.server.children(recursive=True)]
        return [("django", p.pid) for p in workers] + backends

    def _sample(self, initial: bool = False) -> None:
        for key in self._pids():
            try:
                times = psutil.Process(key[1]).cpu_times()
            except psutil.Error:
                continue
            spent = times.user + times.system
            # A process born during the round counts from zero.
            self.first.setdefault(key, spent if initial else 0.0)
            self.last[key] = spent

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self._sample()
        self.sampler_cpu = time.thread_time()  # not the client's: left out of its figure

    def __enter__(self):
        self.client_started = time.process_time()
        self._sample(initial=True)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self._sample()
        from django.db import connection

        connection.close()
        self.client = time.process_time() - self.client_started - self.sampler_cpu
        self.by_kind = {"django": 0.0, "postgres": 0.0}
        for key, spent in self.last.items():
            self.by_kind[key[0]] += spent - self.first[key]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def round_of(base, users, duration, think, pages_by_user, server, client) -> tuple:
    sessions = [(MIX[i % len(MIX)], login(base, MIX[i % len(MIX)])) for i in range(users)]
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    meter = CpuMeter(server, settings.DATABASES["default"]["NAME"]).__enter__()
    deadline = time.monotonic() + duration
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=user_loop,
            args=(base, s, pages_by_user[u], deadline, think, timings, errors, lock, i, client),
            daemon=True,
        )
        for i, (u, s) in enumerate(sessions)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 60)
    wall = time.monotonic() - started
    meter.__exit__()
    p50, p95, p99 = (percentile(timings, p) for p in (50, 95, 99))
    rate = len(timings) / wall
    print(
        f"{users:4d} users {duration:.0f} s: {len(timings):,} requests, {rate:.1f} req/s, "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {max(timings):.0f} ms, "
        f"errors {len(errors)}",
        flush=True,
    )
    n = len(timings)
    django_ms, pg_ms = (meter.by_kind[k] * 1000 / n for k in ("django", "postgres"))
    print(
        f"    CPU a request: server {django_ms + pg_ms:.1f} ms (Django {django_ms:.1f}, "
        f"PostgreSQL {pg_ms:.1f}); this client {meter.client * 1000 / n:.1f} ms; "
        f"load average {load_average()}",
        flush=True,
    )
    if errors:
        print(f"    first errors: {errors[:3]}")
    return p95, p99, rate, len(errors), django_ms + pg_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--client",
        choices=["http", "requests"],
        default="http",
        help="http.client (default) or requests, the client before issue 17 (about 2 ms more "
        "CPU a page on the same cores)",
    )
    args = parser.parse_args()
    if max(args.users) > 200 or args.duration > 600:
        raise SystemExit("bounded: at most 200 users and 600 s a round")
    require_scratch_database()
    quiet()
    # The company's size (the demo's 1,318 customers), not what an earlier bench left.
    wipe_customers()
    call_command("seed_demo", verbosity=0)
    pages_by_user = {u: pages_for(u) for u in set(MIX)}
    from django.db import connection

    connection.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # A timeout or Ctrl-C still stops the server (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    server = start_server(port, args.workers)
    try:
        yard = []
        for _ in range(20):
            started = time.perf_counter()
            fetch(base, reverse("accounts:login"), "")
            yard.append((time.perf_counter() - started) * 1000)
        floor = statistics.median(yard)
        print(f"yardstick: GET login page, one user, p50 {floor:.0f} ms")
        for users in args.users:
            p95, p99, rate, errors, cpu_ms = round_of(
                base, users, args.duration, args.think, pages_by_user, server, args.client
            )
            target = TARGETS.get(users)
            result(
                f"{users} users, {args.think:g} s think, gunicorn x{args.workers}",
                f"p95 {p95:.0f} ms, p99 {p99:.0f} ms, {rate:.1f} req/s, {errors} errors, "
                f"server CPU {cpu_ms:.1f} ms a request",
                f"p95 <= {target} ms" if target else "(no target)",
                f"login page p50 {floor:.0f} ms",
                (p95 <= target and errors == 0) if target else None,
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
