"""Report aggregates are cached under the money data version (billing/data_version.py):
read from the cache until a write that could change them, never stale after one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.data_version import data_version
from billing.models import Bill
from reports import selectors
from reports.selectors import ReportFilters
from tests.factories import CustomerFactory, ReportBillFactory, ReportPaymentFactory

TODAY = dt.date(2026, 1, 20)
ALL = ReportFilters()


@pytest.mark.django_db(transaction=True)
def test_receivables_cached_until_a_payment_moves_the_version(manager_user):
    # given an issued bill of 100, committed
    bill = ReportBillFactory(customer=CustomerFactory(), total=Decimal("100.00"))
    first = selectors.receivable_totals(manager_user, filters=ALL, today=TODAY)

    # when the figures are read again: only the version is read, the bills are not
    with CaptureQueriesContext(connection) as captured:
        again = selectors.receivable_totals(manager_user, filters=ALL, today=TODAY)
    assert len(captured) == 1
    assert again == first
    assert first["received"] == Decimal("0.00")

    # when 40 is received on the bill
    Bill.objects.filter(pk=bill.pk).update(
        amount_paid=Decimal("40.00"), status=Bill.Status.PARTIALLY_PAID
    )

    # then the next read sums the bills afresh
    after = selectors.receivable_totals(manager_user, filters=ALL, today=TODAY)
    assert after["received"] == Decimal("40.00")
    assert after["outstanding"] == Decimal("60.00")


@pytest.mark.django_db(transaction=True)
def test_payment_summary_pages_follow_a_new_payment(manager_user):
    # given one customer's payment, summarised (and cached)
    customer = CustomerFactory()
    ReportPaymentFactory(customer=customer, amount=Decimal("100.00"))
    rows = selectors.PaymentCustomerRows(manager_user, ALL, per_page=50)
    assert len(rows) == 1
    assert [r["received"] for r in rows[0:50]] == [Decimal("100.00")]

    # when a second customer pays
    ReportPaymentFactory(customer=CustomerFactory(), amount=Decimal("250.00"))

    # then the count, the page and the months include it
    rows = selectors.PaymentCustomerRows(manager_user, ALL, per_page=50)
    assert len(rows) == 2
    assert [r["received"] for r in rows[0:50]] == [Decimal("250.00"), Decimal("100.00")]
    months = selectors.payments_by_month(manager_user, filters=ALL)
    assert sum(m["received"] for m in months) == Decimal("350.00")


@pytest.mark.django_db(transaction=True)
def test_nothing_is_cached_inside_a_transaction_that_wrote(manager_user):
    # given a settled database, the version can be cached
    assert data_version() is not None

    # when this transaction writes a bill (it could still roll back)
    with transaction.atomic():
        ReportBillFactory(customer=CustomerFactory())

        # then figures read inside it are not cached
        assert data_version() is None
