"""API test helpers: a JWT-authenticated client per user, and a clean throttle cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    """Throttle counters live in the cache: each test starts from an empty one.

    Under xdist with Redis each worker has its own key prefix (opcms/settings/test.py),
    so this clear() empties only this worker's keys.
    """
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    """An APIClient carrying a Bearer access token for `user` (as an integration would)."""

    def _client(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client

    return _client


@pytest.fixture
def world(sales_user, other_sales_user, ops_user):
    """Two sales owners' customers, each with a plan, usage, bill, payment, allocation, contact, job."""
    from billing.payments.services import payment_allocate
    from tests import factories

    rows = {}
    for key, owner in (("mine", sales_user), ("theirs", other_sales_user)):
        customer = factories.CustomerFactory(sales_owner=owner)
        bill = factories.ApiBillFactory(customer=customer)
        payment = factories.ApiPaymentFactory(customer=customer)
        (allocation,) = payment_allocate(
            user=ops_user, payment=payment, allocations=[(bill, bill.total - 900)]
        )
        rows[key] = {
            "customer": customer,
            "contact": factories.ApiContactFactory(customer=customer),
            "plan": factories.ApiPricePlanFactory(customer=customer),
            "usage": factories.ApiUsageRecordFactory(customer=customer),
            "bill": bill,
            "payment": payment,
            "allocation": allocation,
            "job": factories.JobFactory(created_by=owner),
        }
    return rows
