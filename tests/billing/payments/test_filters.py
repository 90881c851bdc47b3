"""The payment FilterSet: one set of rules for the 收款 page and GET /api/payments/."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from billing.models import Payment
from billing.payments.filters import PaymentFilter
from tests.factories import CustomerFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def _refs(filterset) -> set[str]:
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("bank_ref", flat=True))


def test_q_matches_customer_bank_reference_payer_or_company_id():
    wanted = PaymentFactory(
        customer=CustomerFactory(name="西安远景租赁", company_id=4242),
        bank_ref="REF-A",
        payer="远景财务部",
    )
    PaymentFactory(customer=CustomerFactory(name="南京广厦", company_id=5151), bank_ref="REF-B")

    for q in ("远景", "4242", "REF-A", "财务部"):
        assert _refs(PaymentFilter({"q": q}, queryset=Payment.objects.all())) == {wanted.bank_ref}


def test_open_keeps_payments_with_money_left_to_allocate():
    PaymentFactory(amount=D("100"), allocated=D("100"), bank_ref="DONE")
    PaymentFactory(amount=D("100"), allocated=D("40"), bank_ref="OPEN")

    for value in ("1", "true"):
        assert _refs(PaymentFilter({"open": value}, queryset=Payment.objects.all())) == {"OPEN"}


def test_page_and_api_list_the_same_payments_for_the_same_query(client, ops_user):
    PaymentFactory(amount=D("100"), allocated=D("40"), bank_ref="OPEN-1", payer="甲")
    PaymentFactory(amount=D("100"), allocated=D("40"), bank_ref="OPEN-2", payer="乙")
    PaymentFactory(amount=D("100"), allocated=D("100"), bank_ref="DONE-1", payer="甲")
    query = {"open": "true", "q": "甲"}
    client.force_login(ops_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(ops_user).access_token}")

    page = client.get(reverse("billing:payment-list"), query)
    body = api.get("/api/payments/", query).json()

    on_page = {row.record.bank_ref for row in page.context["table"].page.object_list}
    assert on_page == {p["bank_ref"] for p in body["results"]} == {"OPEN-1"}
