"""customer_scope_q filters another table's rows by their customer with the very rule of
scoped_customers: for every role and both include_deleted settings, the bills it keeps are
exactly those of the customers scoped_customers returns."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from billing.models import Bill
from customers.selectors import customer_scope_q, scoped_customers
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    team = factories.TeamFactory()
    lead = factories.UserFactory(role=Role.SALES, username="rows-lead", team=team)
    team.lead = lead
    team.save()
    member = factories.UserFactory(role=Role.SALES, username="rows-member", team=team)
    stranger = factories.UserFactory(role=Role.SALES, username="rows-stranger")
    users = {
        "lead": lead,
        "member": member,
        "stranger": stranger,
        "manager": factories.UserFactory(role=Role.MANAGER, username="rows-manager"),
        "ops": factories.UserFactory(role=Role.OPS, username="rows-ops"),
        "nobody": factories.UserFactory(role="", username="rows-nobody"),
    }
    for owner in (lead, member, stranger, None):
        for deleted in (False, True):
            customer = factories.CustomerFactory(sales_owner=owner, is_deleted=deleted)
            factories.ReportBillFactory(customer=customer)
    return users


@pytest.mark.parametrize("who", ["lead", "member", "stranger", "manager", "ops", "nobody"])
@pytest.mark.parametrize("include_deleted", [False, True])
def test_rows_in_scope_are_those_of_the_scoped_customers(world, who, include_deleted):
    user = world[who]
    # given the customers the door lets this user see
    expected = set(
        Bill.objects.filter(
            customer__in=scoped_customers(user, include_deleted=include_deleted)
        ).values_list("pk", flat=True)
    )

    # when the bills are filtered by the same rule through their customer
    condition = customer_scope_q(user, include_deleted=include_deleted)
    bills = Bill.objects.all() if condition is None else Bill.objects.filter(condition)

    # then they are the same bills
    assert set(bills.values_list("pk", flat=True)) == expected


def test_everything_in_scope_needs_no_join_with_the_customers(world):
    manager = world["manager"]
    assert customer_scope_q(manager, include_deleted=True) is None
    sql = str(Bill.objects.filter(customer_scope_q(manager)).query)
    assert "JOIN" not in sql
    assert "NOT (EXISTS" in sql  # the few deleted customers, by an anti-join


@pytest.mark.parametrize("who", ["lead", "member", "stranger", "manager", "ops", "nobody"])
def test_money_totals_in_scope_sum_the_bills_of_the_scoped_customers(world, who):
    from django.db.models import Count, Sum

    from billing.models import BillTotal
    from customers.selectors import owner_scope_q

    user = world[who]
    # given the bills of the customers the door lets this user see (money keeps deleted ones)
    expected = Bill.objects.filter(
        customer__in=scoped_customers(user, include_deleted=True)
    ).aggregate(bills=Count("pk"), total=Sum("total", default=0))

    # when the totals kept per customer owner are filtered by the owner form of the rule
    condition = owner_scope_q(user)
    totals = BillTotal.objects.all() if condition is None else BillTotal.objects.filter(condition)

    # then they sum the same bills
    assert (
        totals.aggregate(bills=Sum("bills", default=0), total=Sum("total", default=0)) == expected
    )
