"""Receivables grouped by head-office group (集团): sums per group, within the user's scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from tests.factories import CustomerFactory, CustomerGroupFactory, issued_bill

pytestmark = pytest.mark.django_db


def _world(ops_user, sales_user):
    head = CustomerFactory()
    own = CustomerFactory(sales_owner=sales_user)
    other = CustomerFactory()
    group = CustomerGroupFactory(head_office=head, name="华联集团")
    Customer.objects.filter(pk__in=[head.pk, own.pk, other.pk]).update(group=group)
    issued_bill(user=ops_user, customer=own, lines=["100"])
    issued_bill(user=ops_user, customer=other, lines=["900"])
    issued_bill(user=ops_user, customer=CustomerFactory(sales_owner=sales_user), lines=["40"])


def test_receivables_grouped_by_group(client, ops_user, sales_user):
    _world(ops_user, sales_user)
    client.force_login(ops_user)

    response = client.get(reverse("reports:receivables") + "?group_by=group")

    rows = {r["group"]: r["billed"] for r in response.context["by_group"]}
    assert rows == {"华联集团": Decimal("1000"), "（未归属集团）": Decimal("40")}
    assert "按集团汇总" in response.content.decode()
    assert client.get(reverse("reports:receivables")).context["by_group"] is None


def test_a_salespersons_group_totals_hold_only_their_members(client, ops_user, sales_user):
    _world(ops_user, sales_user)
    client.force_login(sales_user)

    response = client.get(reverse("reports:receivables") + "?group_by=group")

    rows = {r["group"]: r["billed"] for r in response.context["by_group"]}
    assert rows == {"华联集团": Decimal("100"), "（未归属集团）": Decimal("40")}
