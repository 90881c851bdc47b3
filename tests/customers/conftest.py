"""Fixtures of the customer tests."""

from __future__ import annotations

import pytest

from customers.services import cooperation_mapping_seed_defaults


@pytest.fixture(autouse=True)
def default_cooperation_mapping(request):
    """The default 合作状态 mapping, as data migration 0003 leaves it.

    Transactional tests (browser, Celery worker) end by flushing every table,
    migration-seeded rows included, and pytest-xdist may run one before any
    test here; without this the importer would see an empty mapping depending
    on test order. Tests that need no database are left alone.
    """
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    cooperation_mapping_seed_defaults()


@pytest.fixture(autouse=True)
def project_celery_app_is_current():
    """Make the project's (eager) Celery app the current and default app again.

    tests/accounts/test_jobs_worker.py starts a worker on a fresh Celery app,
    and start_worker makes that app current *and default* for every thread,
    so later shared tasks (job_enqueue from a live-server request) went to
    Redis with no worker and jobs never finished. Whichever test runs first
    on an xdist worker decided it; this removes the order dependence here.
    """
    from opcms.celery import app

    app.set_current()
    app.set_default()
