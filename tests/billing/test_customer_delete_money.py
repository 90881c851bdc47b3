"""Money never disappears: a customer with an open balance or credit cannot be deleted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers.models import Customer
from customers.services import customer_soft_delete
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_a_customer_with_an_unpaid_issued_bill_cannot_be_deleted(admin_user, ops_user):
    customer = factories.CustomerFactory()
    factories.issued_bill(user=ops_user, customer=customer, lines=["100.00"])

    with pytest.raises(ValidationError, match="未结清的账单或未核销的收款"):
        customer_soft_delete(user=admin_user, customer=customer)

    assert not Customer.objects.get(pk=customer.pk).is_deleted


def test_a_customer_with_unallocated_credit_cannot_be_deleted(admin_user):
    customer = factories.CustomerFactory()
    factories.PaymentFactory(customer=customer, amount=Decimal("50.00"))

    with pytest.raises(ValidationError):
        customer_soft_delete(user=admin_user, customer=customer)


def test_the_refusal_holds_for_a_queryset_update_too(ops_user):
    from django.db import IntegrityError

    customer = factories.CustomerFactory()
    factories.issued_bill(user=ops_user, customer=customer, lines=["100.00"])

    with pytest.raises(IntegrityError):
        Customer.objects.filter(pk=customer.pk).update(is_deleted=True)


def test_a_settled_customer_can_be_deleted(admin_user):
    customer = factories.CustomerFactory()
    factories.BillFactory(customer=customer, lines=["10.00"])  # a draft owes nothing yet

    customer_soft_delete(user=admin_user, customer=customer)

    assert Customer.objects.get(pk=customer.pk).is_deleted


def test_the_delete_page_shows_the_refusal(client, admin_user, ops_user):
    customer = factories.CustomerFactory()
    factories.issued_bill(user=ops_user, customer=customer, lines=["100.00"])
    client.force_login(admin_user)

    response = client.post(f"/customers/{customer.pk}/delete/", follow=True)

    assert "不能删除" in response.content.decode()
    assert not Customer.objects.get(pk=customer.pk).is_deleted
