"""Price plan services: versions, overlaps refused, permissions, locks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing.bills.services import (
    bill_issue,
)
from billing.plans.services import plan_create, plan_new_version, plan_update
from tests.factories import (
    BillFactory,
    BillLineFactory,
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
)

pytestmark = pytest.mark.django_db
OCT = date(2025, 10, 1)


@pytest.fixture
def series_l():
    return DeviceSeriesFactory(code="L")


def test_plan_create_numbers_versions(ops_user, series_l):
    customer = CustomerFactory()
    plan = plan_create(
        user=ops_user,
        customer=customer,
        series=series_l,
        data={"kind": "per_shoot", "single_price": D("8"), "valid_to": date(2025, 6, 30)},
    )
    second = plan_create(
        user=ops_user,
        customer=customer,
        series=series_l,
        data={"kind": "per_shoot", "single_price": D("9"), "valid_from": date(2025, 7, 1)},
    )
    assert (plan.version, second.version) == (1, 2)


def test_overlapping_plan_is_refused(ops_user, series_l):
    customer = CustomerFactory()
    plan_create(
        user=ops_user,
        customer=customer,
        series=series_l,
        data={"kind": "per_shoot", "single_price": D("8"), "valid_from": date(2025, 1, 1)},
    )
    with pytest.raises(ValidationError, match="日期重叠"):
        plan_create(
            user=ops_user,
            customer=customer,
            series=series_l,
            data={
                "kind": "per_shoot",
                "single_price": D("9"),
                "valid_from": date(2024, 6, 1),
                "valid_to": date(2025, 1, 1),
            },
        )


def test_plan_for_other_series_does_not_overlap(ops_user, series_l):
    customer = CustomerFactory()
    PricePlanFactory(customer=customer, series=series_l)
    plan = plan_create(
        user=ops_user,
        customer=customer,
        series=DeviceSeriesFactory(code="X"),
        data={"kind": "per_shoot", "single_price": D("9")},
    )
    assert plan.pk


def test_plan_form_rules_explain_missing_fields(ops_user, series_l):
    with pytest.raises(ValidationError) as exc:
        plan_create(
            user=ops_user,
            customer=CustomerFactory(),
            series=series_l,
            data={"kind": "per_shoot", "multi_rule": "incremental"},
        )
    assert set(exc.value.message_dict) == {"single_price", "multi_base", "multi_step"}


def test_sales_cannot_create_plans(sales_user, series_l):
    with pytest.raises(PermissionDenied):
        plan_create(user=sales_user, customer=CustomerFactory(), series=series_l, data={})


def test_locked_plan_is_never_edited_but_gets_a_new_version(ops_user, series_l):
    plan = PricePlanFactory(series=series_l, valid_from=date(2025, 1, 1))
    bill = BillFactory(customer=plan.customer)
    BillLineFactory(bill=bill, plan=plan)
    bill_issue(user=ops_user, bill=bill)
    with pytest.raises(ValidationError, match="不能修改"):
        plan_update(user=ops_user, plan=plan, data={"single_price": D("9")})
    with pytest.raises(ValidationError, match="最早从下个月生效"):
        plan_new_version(user=ops_user, plan=plan, valid_from=date(2025, 10, 15), data={})
    new = plan_new_version(
        user=ops_user, plan=plan, valid_from=date(2025, 11, 1), data={"single_price": D("9")}
    )
    plan.refresh_from_db()
    assert plan.single_price == D("8.00")
    assert plan.valid_to == date(2025, 10, 31)
    assert (new.version, new.single_price, new.supersedes_id) == (
        plan.version + 1,
        D("9"),
        plan.pk,
    )
