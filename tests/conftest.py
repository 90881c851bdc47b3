"""Shared fixtures: users per role, service requirements (PostgreSQL, Redis, browser)."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts.roles import Role

from . import factories

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# made by fixtures around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Property tests share two cores with the rest of the suite (and other suites): a slow
# draw is the machine being busy, not a bad strategy, and a deadline only adds noise.
hypothesis_settings.register_profile(
    "opcms", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("opcms")

CHROMIUM = os.environ.get("OPCMS_CHROMIUM", "/usr/bin/chromium")


def _missing(what: str) -> None:
    """Skip locally; fail in CI (OPCMS_REQUIRE_SERVICES=1), where every service must be there."""
    if settings.OPCMS_REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (OPCMS_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


@pytest.fixture
def require_redis():
    url = os.environ.get("REDIS_URL")
    if not url:
        _missing("Redis (REDIS_URL)")
    return url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        return {**browser_type_launch_args, "executable_path": CHROMIUM}
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-gpu",
            "--no-first-run",
        ],
    }


@pytest.fixture
def require_browser():
    if not shutil.which(CHROMIUM):
        _missing(f"Chromium ({CHROMIUM})")


@pytest.fixture
def browser_page(require_browser, page, live_server):
    """A Playwright page with a short default timeout, aimed at the live server.

    Every journey also checks the Content-Security-Policy: Chromium reports what the policy
    blocked (an inline script, handler or style) on the console, and any such report fails
    the test at teardown, since the blocked behaviour silently did not happen.
    """
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    page.csp_violations = []
    page.csp_expected = []  # substrings of violations a test provokes on purpose
    page.on(
        "console",
        lambda msg: (
            page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    yield page
    unexpected = [
        text
        for text in page.csp_violations
        if not any(expected in text for expected in page.csp_expected)
    ]
    assert unexpected == [], "the Content-Security-Policy blocked something"


PASSWORD = factories.PASSWORD


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(role=Role.ADMIN, username="admin1", is_superuser=True)


@pytest.fixture
def manager_user(db):
    return factories.UserFactory(role=Role.MANAGER, username="manager1")


@pytest.fixture
def ops_user(db):
    return factories.UserFactory(role=Role.OPS, username="ops1", full_name="钱多")


@pytest.fixture
def sales_user(db):
    return factories.UserFactory(role=Role.SALES, username="sales1", full_name="王珂")


@pytest.fixture
def other_sales_user(db):
    return factories.UserFactory(role=Role.SALES, username="sales9", full_name="周文")


@pytest.fixture
def login_page(browser_page):
    """Log in through the real form as a given user; returns the page on the home screen."""

    def _login(user, password: str = PASSWORD):
        browser_page.goto(f"{browser_page.base_url}/accounts/login/")
        browser_page.fill("#id_username", user.username)
        browser_page.fill("#id_password", password)
        # Wait for the next page's load event: its scripts (Bootstrap's dropdowns) have run
        # before the test clicks; a click on a half-loaded page opened no menu.
        with browser_page.expect_navigation():
            browser_page.click("button[type=submit]")
        return browser_page

    return _login


# --- customer import/export (issue 4) ---------------------------------------


@pytest.fixture(autouse=True)
def _celery_backend_not_cached(request):
    """Tests marked `redis` start their worker with a real result backend.

    Eager tasks run earlier in the session make Celery cache its DisabledBackend
    on the app, and pytest-django runs transactional (worker) tests last, so
    without this reset `result.get()` fails with "No result backend is configured".
    """
    if request.node.get_closest_marker("redis") is None:
        yield
        return
    from opcms.celery import app

    def forget() -> None:
        app._backend_cache = None
        app._local.__dict__.pop("backend", None)

    forget()
    yield
    forget()


# --- background jobs in browser journeys (billing wave) -----------------------


JOB_TIMEOUT_MS = 90_000


@pytest.fixture
def wait_for_job():
    """Wait until the page's job progress ends, then require success.

    Only job completion gets the long timeout: under `-n 2` on PostgreSQL a job
    (run in-process, eagerly, inside the request that starts it) can take longer
    than the page's 10 s default. A failed job fails at once with its message.
    """

    def _wait(page, timeout: int = JOB_TIMEOUT_MS) -> None:
        finished = page.locator(
            ".job-progress[data-status=succeeded], .job-progress[data-status=failed]"
        ).first
        finished.wait_for(timeout=timeout)
        assert finished.get_attribute("data-status") == "succeeded", finished.inner_text()

    return _wait


@pytest.fixture(autouse=True)
def _project_celery_app_stays_current(request):
    """Give the current/default Celery app back to the project after a worker test.

    `start_worker()` (and `Celery(...)` itself) make their app the current and default
    one; `shared_task`s resolve through it, so a later eager job in the same process
    (a browser journey's bill generation) was sent to Redis with no worker left and
    never ran. That, not slowness, was the intermittent journey time-out under -n 2.
    """
    yield
    if request.node.get_closest_marker("redis") is not None:
        from opcms.celery import app

        app.set_current()
        app.set_default()


# --- notifications, webhooks (issue 13) ---------------------------------------


@pytest.fixture
def http_recorder():
    """A local HTTP server (127.0.0.1) that records the webhook and robot posts it gets."""
    from .notify_support import start_recorder

    recorder, server = start_recorder()
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1; `.messages` holds what it received."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(
                (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
            )
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free port (the controller's self-check needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def beat_schedules(db):
    """The duties' beat entries. Migrations create them, but a transactional test
    elsewhere on the same worker flushes every table; seeding is idempotent."""
    from billing.schedules.services import beat_schedules_seed

    beat_schedules_seed()
