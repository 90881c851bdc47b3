"""The bill FilterSet: one set of rules for the 账单 page and GET /api/bills/."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from billing.bills.filters import BillFilter
from billing.models import Bill
from tests.factories import BillFactory, CustomerFactory, issued_bill

pytestmark = pytest.mark.django_db


def _numbers(filterset) -> set[str]:
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("number", flat=True))


def test_period_accepts_a_month_or_its_first_day():
    october = BillFactory(period=date(2025, 10, 1))
    BillFactory(period=date(2025, 9, 1))

    for value in ("2025-10", "2025-10-01"):
        found = _numbers(BillFilter({"period": value}, queryset=Bill.objects.all()))
        assert found == {october.number}


def test_q_matches_name_number_or_company_id():
    wanted = BillFactory(customer=CustomerFactory(name="西安远景租赁", company_id=4242))
    BillFactory(customer=CustomerFactory(name="南京广厦", company_id=5151))

    for q in ("远景", "4242", wanted.number):
        assert _numbers(BillFilter({"q": q}, queryset=Bill.objects.all())) == {wanted.number}


def test_overdue_is_offered_beside_the_stored_statuses(ops_user):
    overdue = issued_bill(user=ops_user, lines=["10"], due_date=date(2025, 11, 30))
    issued_bill(user=ops_user, lines=["10"], due_date=date(2999, 1, 31))

    found = _numbers(BillFilter({"status": "overdue"}, queryset=Bill.objects.all()))

    assert found == {overdue.number}


def test_page_and_api_list_the_same_bills_for_the_same_query(client, ops_user):
    BillFactory(total=D("10"), anomalies=[{"code": "spike", "message": "用量异常"}])
    BillFactory(total=D("20"))
    BillFactory(total=D("30"), period=date(2025, 9, 1))
    query = {"period": "2025-10", "anomalies": "true"}
    client.force_login(ops_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(ops_user).access_token}")

    page = client.get(reverse("billing:bill-list"), query)
    body = api.get("/api/bills/", query).json()

    on_page = {row.record.number for row in page.context["table"].page.object_list}
    assert on_page == {b["number"] for b in body["results"]}
    assert len(on_page) == 1
