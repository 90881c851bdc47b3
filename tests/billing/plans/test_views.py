"""Price plan pages: the form with its live example, edits of locked plans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from billing.models import PricePlan
from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def series_l():
    return DeviceSeriesFactory(code="L")


def test_plan_form_live_example_and_create(client, ops_user, series_l):
    customer = CustomerFactory()
    client.force_login(ops_user)
    url = reverse("billing:plan-create", args=[customer.pk])
    data = {
        "series": "L",
        "kind": "per_shoot",
        "single_price": "8",
        "multi_rule": "incremental",
        "multi_base": "14",
        "multi_step": "10",
        "tier_mode": "graduated",
        "tier_unit": "shoots",
        "fee_schedule": "upfront",
        "ex_single": "10",
        "ex_multi": "2",
        "ex_floors": "3",
    }
    example = client.post(url, {**data, "_example": "1"}, HTTP_HX_REQUEST="true")
    assert "10 次单层和 2 次 3 层拍摄，本月费用 ¥148.00" in example.text
    assert client.post(url, data).status_code == 302
    plan = PricePlan.objects.get()
    assert (plan.multi_base, plan.version) == (D("14.00"), 1)


def test_locked_plan_edit_makes_a_new_version(client, ops_user, series_l):
    plan = PricePlanFactory(series=series_l, valid_from=date(2025, 1, 1), is_locked=True)
    client.force_login(ops_user)
    url = reverse("billing:plan-edit", args=[plan.pk])
    page = client.get(url)
    assert "新版本" in page.text
    response = client.post(
        url,
        {
            "kind": "per_shoot",
            "single_price": "9",
            "valid_from": "2025-11-01",
            "multi_rule": "unified",
            "tier_mode": "graduated",
            "tier_unit": "shoots",
            "fee_schedule": "upfront",
        },
    )
    assert response.status_code == 302
    assert PricePlan.objects.filter(customer=plan.customer).count() == 2
    plan.refresh_from_db()
    assert (plan.single_price, plan.valid_to) == (D("8.00"), date(2025, 10, 31))
