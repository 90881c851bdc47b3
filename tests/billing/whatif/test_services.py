"""Applying a what-if: new versions where the plan rules allow them, one audit entry, closed months refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from billing.bills.services import bill_issue, bills_generate_for_period
from billing.models import Bill, PricePlan
from billing.whatif.services import whatif_apply
from customers.models import Customer
from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
    UsageRecordFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
CANDIDATE = {"kind": PricePlan.Kind.PER_SHOOT, "single_price": D("11.00")}


def test_apply_creates_versions_only_where_allowed(ops_user):
    # given: a plan in force, no plan at all, and a plan that already priced an issued December
    series = DeviceSeriesFactory(code="L")
    open_plan = PricePlanFactory(
        customer=CustomerFactory(company_id="1"), series=series, valid_from=dt.date(2025, 1, 1)
    )
    bare = CustomerFactory(company_id="2")
    billed = CustomerFactory(company_id="3", billing_enabled=Customer.BillingEnabled.YES)
    billed_plan = PricePlanFactory(customer=billed, series=series, valid_from=dt.date(2025, 1, 1))
    UsageRecordFactory(customer=billed, series=series, shot_date=dt.date(2025, 12, 5))
    bills_generate_for_period(period=dt.date(2025, 12, 1), user=ops_user, customer_ids=[billed.pk])
    bill_issue(user=ops_user, bill=Bill.objects.get(customer=billed))
    before = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(PricePlan)
    ).count()

    # when the candidate is applied from 2025-12-01
    result = whatif_apply(
        user=ops_user,
        customers_qs=Customer.objects.all(),
        series=series,
        data=CANDIDATE,
        valid_from=dt.date(2025, 12, 1),
    )

    # then the first gets version 2, the second its first plan, the third is refused
    assert sorted((p.customer.company_id, p.version) for p in result.created) == [
        (1, open_plan.version + 1),
        (2, 1),
    ]
    assert [company_id for company_id, _ in result.refused] == [3]
    assert "2025-12 的账单已按原方案出账" in result.refused[0][1]
    open_plan.refresh_from_db()
    assert open_plan.valid_to == dt.date(2025, 11, 30)
    new = PricePlan.objects.get(customer=bare)
    assert (new.single_price, new.valid_from, new.valid_to) == (
        D("11.00"),
        dt.date(2025, 12, 1),
        None,
    )
    billed_plan.refresh_from_db()
    assert billed_plan.valid_to is None
    assert PricePlan.objects.filter(customer=billed).count() == 1
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(PricePlan))
    assert entries.count() == before + 1
    assert "新方案 2 个" in entries.latest("timestamp").object_repr


def test_apply_inside_a_closed_month_is_refused_and_writes_nothing(ops_user, monkeypatch):
    series = DeviceSeriesFactory(code="L")
    PricePlanFactory(series=series, valid_from=dt.date(2025, 1, 1))
    monkeypatch.setattr("billing.whatif.services.period_is_closed", lambda day: True)

    with pytest.raises(ValidationError, match="已月结关账"):
        whatif_apply(
            user=ops_user,
            customers_qs=Customer.objects.all(),
            series=series,
            data=CANDIDATE,
            valid_from=dt.date(2025, 11, 1),
        )

    assert PricePlan.objects.count() == 1


def test_a_manager_may_compare_but_not_apply(manager_user):
    series = DeviceSeriesFactory(code="L")

    with pytest.raises(PermissionDenied):
        whatif_apply(
            user=manager_user,
            customers_qs=Customer.objects.all(),
            series=series,
            data=CANDIDATE,
            valid_from=dt.date(2025, 11, 1),
        )
