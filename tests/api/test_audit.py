"""Changes made through the API are audited with the token's user as the actor."""

import pytest
from auditlog.models import LogEntry

from customers.models import Customer

pytestmark = pytest.mark.django_db


def test_a_customer_created_with_a_token_is_logged_with_its_user(client_for, ops_user):
    client_for(ops_user).post(
        "/api/customers/create/", {"company_id": 100777, "name": "审计客户"}, format="json"
    )

    customer = Customer.objects.get(company_id=100777)
    entry = LogEntry.objects.get_for_object(customer).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == ops_user
