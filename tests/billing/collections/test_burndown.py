"""Package burn-down on worked examples: quota reached mid-month, no usage, unlimited package."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.collections.burndown import burn_down_compute, package_burn_downs
from billing.models import PricePlan
from billing.pricing import ANNUAL, PlanTerms
from tests.factories import CustomerFactory, PricePlanFactory, UsageRecordFactory

TODAY = dt.date(2026, 11, 30)


def terms(quota=1200, overage="5.00", start=dt.date(2026, 1, 1)):
    return PlanTerms(
        kind=ANNUAL,
        annual_fee=Decimal("12000.00"),
        annual_quota=quota,
        overage_price=Decimal(overage) if overage else None,
        contract_start=start,
    )


def test_quota_reached_mid_month_shows_the_day_it_ran_out_and_the_overage():
    # Given a contract year 2026-01..12 with a quota of 1,200: 100 shots on the 1st of each
    # month January-October (1,000), then 50 a day on November 10, 11, 12, 13, 14 (250)
    daily = [(dt.date(2026, m, 1), 100) for m in range(1, 11)]
    daily += [(dt.date(2026, 11, d), 50) for d in range(10, 15)]

    result = burn_down_compute(terms=terms(), today=TODAY, daily=daily)

    # Then 1,250 used; the 1,200th shot fell on November 13 (1,000 + 4 × 50)
    assert result.used == 1250
    assert result.already_out and result.quota_out_on == dt.date(2026, 11, 13)
    # Run-rate: August-October, 300 shots over 92 days → 100.0 a month
    assert result.run_rate == Decimal("100.0")
    # Projection to 2026-12-31 (31 days at 300/92 a day = 101.09 → 101): 1,351 in the year,
    # 151 over the quota at ¥5.00 = ¥755.00 (the engine's overage line)
    assert result.projected_total == 1351
    assert result.projected_overage == 151
    assert result.projected_overage_money == Decimal("755.00")
    assert [m["cumulative"] for m in result.months][-2:] == [1000, 1250]


def test_run_rate_projects_the_quota_out_date_within_the_year():
    # Given 1,150 used by November 30 and 92 shots a month (1 a day) August-October
    daily = (
        [(dt.date(2026, 1, 5), 874)]
        + [(dt.date(2026, 8, 1) + dt.timedelta(days=i), 1) for i in range(92)]
        + [(dt.date(2026, 11, 2), 184)]
    )
    result = burn_down_compute(terms=terms(), today=TODAY, daily=daily)
    assert result.used == 1150
    # 50 left at 1 a day → 50 days after November 30 is 2027-01-19: past the year's end
    assert result.quota_out_on is None
    # with a quota of 1,170: 20 left → December 20
    tighter = burn_down_compute(terms=terms(quota=1170), today=TODAY, daily=daily)
    assert tighter.quota_out_on == dt.date(2026, 12, 20)


def test_no_usage_never_runs_out_and_projects_nothing():
    result = burn_down_compute(terms=terms(), today=TODAY, daily=[])
    assert (result.used, result.run_rate, result.quota_out_on) == (0, Decimal("0.0"), None)
    assert (result.projected_overage, result.projected_overage_money) == (0, Decimal("0.00"))


def test_unlimited_package_has_no_quota_out_and_no_overage():
    daily = [(dt.date(2026, m, 1), 500) for m in range(1, 12)]
    result = burn_down_compute(terms=terms(quota=None, overage=None), today=TODAY, daily=daily)
    assert result.unlimited and result.used == 5500
    assert result.quota_out_on is None and result.projected_overage == 0
    assert result.projected_total > 5500  # still projected for the chart


def test_contract_year_follows_the_contract_start_month():
    # Given a contract starting 2026-07-15: the year runs 2026-07-01..2027-06-30
    daily = [(dt.date(2026, 6, 30), 999), (dt.date(2026, 7, 1), 10)]
    result = burn_down_compute(terms=terms(start=dt.date(2026, 7, 15)), today=TODAY, daily=daily)
    assert (result.year_start, result.year_end) == (dt.date(2026, 7, 1), dt.date(2027, 6, 30))
    assert result.used == 10


@pytest.mark.django_db
def test_package_list_is_scoped_and_reads_usage_of_the_plan_series(sales_user, other_sales_user):
    mine = CustomerFactory(sales_owner=sales_user)
    theirs = CustomerFactory(sales_owner=other_sales_user)
    plans = {}
    for customer in (mine, theirs):
        plans[customer.pk] = PricePlanFactory(
            customer=customer,
            kind=PricePlan.Kind.ANNUAL,
            annual_fee=Decimal("12000"),
            annual_quota=100,
            overage_price=Decimal("5"),
            contract_start=dt.date(2026, 1, 1),
            valid_from=dt.date(2026, 1, 1),
        )
    plan = plans[mine.pk]
    UsageRecordFactory(customer=mine, series=plan.series, shot_date=dt.date(2026, 3, 1), shots=40)

    rows = package_burn_downs(sales_user, today=TODAY)

    assert [(p.pk, b.used) for p, b in rows] == [(plan.pk, 40)]
