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
