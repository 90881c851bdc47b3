"""Database constraints that back the services: plan versions may not overlap in time."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import CustomerFactory, DeviceSeriesFactory, PricePlanFactory


def _check_now() -> None:
    # The constraint is deferred to commit; the test transaction never commits.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS price_plan_no_overlap IMMEDIATE")


def test_overlapping_plan_versions_are_refused_by_the_database(db):
    customer, series = CustomerFactory(), DeviceSeriesFactory(code="L")
    PricePlanFactory(customer=customer, series=series, version=1, valid_from=date(2026, 1, 1))

    with pytest.raises(IntegrityError), transaction.atomic():
        PricePlanFactory(customer=customer, series=series, version=2, valid_from=date(2026, 6, 1))
        _check_now()


def test_consecutive_versions_and_other_series_are_allowed(db):
    customer = CustomerFactory()
    l_series, x_series = DeviceSeriesFactory(code="L"), DeviceSeriesFactory(code="X")
    PricePlanFactory(
        customer=customer,
        series=l_series,
        version=1,
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 5, 31),
    )
    PricePlanFactory(customer=customer, series=l_series, version=2, valid_from=date(2026, 6, 1))
    PricePlanFactory(customer=customer, series=x_series, version=1, valid_from=date(2026, 1, 1))

    _check_now()  # raises IntegrityError if the database saw an overlap
    assert customer.price_plans.count() == 3
