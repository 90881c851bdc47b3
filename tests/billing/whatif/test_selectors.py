"""The what-if engine: identical candidates change nothing; current plans reproduce the bills."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.bills.services import bill_issue, bills_generate_for_period
from billing.models import Bill, PricePlan
from billing.plans.selectors import plan_terms
from billing.pricing import PER_SHOOT, PlanTerms
from billing.whatif.selectors import whatif_compute
from customers.models import Customer
from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
    UsageRecordFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
MONTHS = [dt.date(2025, m, 1) for m in (7, 8, 9)]
prices = st.decimals(min_value=D("0"), max_value=D("500"), places=2)

per_shoot = st.fixed_dictionaries(
    {
        "kind": st.just(PricePlan.Kind.PER_SHOOT),
        "single_price": prices,
        "multi_price": st.one_of(st.none(), prices),
        "minimum_charge": st.one_of(st.none(), prices),
    }
)
tiered = st.fixed_dictionaries(
    {
        "kind": st.just(PricePlan.Kind.TIERED),
        "tier_mode": st.sampled_from(PricePlan.TierMode.values),
        "tier_unit": st.sampled_from(PricePlan.TierUnit.values),
        "bands_shared": st.tuples(st.integers(1, 20), prices, prices).map(
            lambda t: [{"up_to": t[0], "price": str(t[1])}, {"up_to": None, "price": str(t[2])}]
        ),
    }
)
annual = st.fixed_dictionaries(
    {
        "kind": st.just(PricePlan.Kind.ANNUAL),
        "annual_fee": prices,
        "annual_quota": st.one_of(st.none(), st.integers(0, 30)),
        "overage_price": prices,
        "fee_schedule": st.sampled_from(PricePlan.FeeSchedule.values),
        "contract_start": st.sampled_from(
            [dt.date(2024, 11, 1), dt.date(2025, 2, 1), dt.date(2025, 7, 1)]
        ),
    }
)
discounts = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {
            "discount_kind": st.just(PricePlan.DiscountKind.PERCENT),
            "discount_value": st.decimals(min_value=D("0"), max_value=D("100"), places=1),
            "discount_reason": st.just("老客户"),
        }
    ),
)
usage = st.lists(
    st.tuples(
        st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2025, 9, 30)),
        st.integers(1, 9),
        st.integers(1, 5),
        st.one_of(st.none(), st.decimals(min_value=D("1"), max_value=D("300"), places=2)),
    ),
    max_size=8,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    customers=st.lists(
        st.tuples(st.one_of(per_shoot, tiered, annual), discounts, usage), min_size=1, max_size=3
    )
)
def test_a_candidate_identical_to_the_current_plan_changes_nothing(customers):
    with transaction.atomic():
        series = DeviceSeriesFactory(code="L")
        made = []
        for terms, discount, shoots in customers:
            customer = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
            plan = PricePlanFactory(customer=customer, series=series, **terms, **discount)
            for day, shots, floors, area in shoots:
                UsageRecordFactory(
                    customer=customer,
                    series=series,
                    shot_date=day,
                    shots=shots,
                    floors=floors,
                    area=area,
                )
            made.append((customer, plan))

        for customer, plan in made:
            result = whatif_compute(
                customers_qs=Customer.objects.filter(pk=customer.pk),
                series_id=series.pk,
                candidate=plan_terms(plan),
                first_month=MONTHS[0],
                last_month=MONTHS[-1],
            )

            assert [r.difference for r in result.rows] == [D("0.00")]
            assert result.rows[0].candidate == result.rows[0].current
        transaction.set_rollback(True)


def test_current_plans_re_priced_equal_the_issued_bills(ops_user):
    # given three customers with different plans and usage, billed and issued for two months
    series = DeviceSeriesFactory(code="L")
    plans = [
        {"kind": PricePlan.Kind.PER_SHOOT, "single_price": D("8"), "multi_price": D("20")},
        {
            "kind": PricePlan.Kind.TIERED,
            "bands_shared": [{"up_to": 3, "price": "10"}, {"up_to": None, "price": "6"}],
        },
        {
            "kind": PricePlan.Kind.ANNUAL,
            "annual_fee": D("1200"),
            "fee_schedule": PricePlan.FeeSchedule.MONTHLY,
            "annual_quota": 5,
            "overage_price": D("9"),
            "contract_start": dt.date(2025, 1, 1),
        },
    ]
    for number, terms in enumerate(plans):
        customer = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
        PricePlanFactory(customer=customer, series=series, **terms)
        for month in MONTHS[:2]:
            UsageRecordFactory(
                customer=customer, series=series, shot_date=month.replace(day=9), shots=4 + number
            )
            UsageRecordFactory(
                customer=customer, series=series, shot_date=month.replace(day=20), floors=3
            )
    # and a fourth whose price changed on 2025-08-15 (generation splits that month)
    changed = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
    PricePlanFactory(
        customer=changed, series=series, single_price=D("5"), valid_to=dt.date(2025, 8, 14)
    )
    PricePlanFactory(
        customer=changed, series=series, single_price=D("7"), valid_from=dt.date(2025, 8, 15)
    )
    for day in (dt.date(2025, 7, 3), dt.date(2025, 8, 3), dt.date(2025, 8, 20)):
        UsageRecordFactory(customer=changed, series=series, shot_date=day, shots=2)
    for month in MONTHS[:2]:
        bills_generate_for_period(period=month, user=ops_user)
    for bill in Bill.objects.all():
        bill_issue(user=ops_user, bill=bill)

    # when the what-if re-prices those months with some candidate
    result = whatif_compute(
        customers_qs=Customer.objects.all(),
        series_id=series.pk,
        candidate=PlanTerms(kind=PER_SHOOT, single_price=D("9")),
        first_month=MONTHS[0],
        last_month=MONTHS[1],
    )

    # then "current plans" and "billed" both equal the issued bills, customer by customer
    issued = {b.customer_id: D("0") for b in Bill.objects.all()}
    for bill in Bill.objects.all():
        issued[bill.customer_id] += bill.total
    assert {r.customer_id: r.current for r in result.rows} == issued
    assert {r.customer_id: r.billed for r in result.rows} == issued
    assert result.current == result.billed == sum(issued.values())
    assert result.current > 0


def test_change_and_customers_above_a_threshold():
    # given one customer at ¥8 a shoot and one without a plan but with usage
    series = DeviceSeriesFactory(code="L")
    a = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
    PricePlanFactory(customer=a, series=series, single_price=D("8"))
    UsageRecordFactory(customer=a, series=series, shot_date=MONTHS[0], shots=10)
    b = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
    UsageRecordFactory(customer=b, series=series, shot_date=MONTHS[0], shots=2)
    c = CustomerFactory(billing_enabled=Customer.BillingEnabled.NO)
    UsageRecordFactory(customer=c, series=series, shot_date=MONTHS[0], shots=2)

    # when the candidate charges ¥10
    result = whatif_compute(
        customers_qs=Customer.objects.all(),
        series_id=series.pk,
        candidate=PlanTerms(kind=PER_SHOOT, single_price=D("10")),
        first_month=MONTHS[0],
        last_month=MONTHS[0],
    )

    # then a pays 25% more, b is new revenue, c (not billed) is left out
    rows = {r.customer_id: r for r in result.rows}
    assert set(rows) == {a.pk, b.pk}
    assert (rows[a.pk].current, rows[a.pk].candidate, rows[a.pk].change_pct) == (
        D("80.00"),
        D("100.00"),
        D("25.00"),
    )
    assert (rows[b.pk].current, rows[b.pk].candidate, rows[b.pk].change_pct) == (
        D("0"),
        D("20.00"),
        None,
    )
    assert [r.customer_id for r in result.above(D("30"))] == [b.pk]
    assert {r.customer_id for r in result.above(D("20"))} == {a.pk, b.pk}
    assert result.difference == D("40.00")
    counts = {d["label"]: d["count"] for d in result.distribution()}
    assert counts["20% ~ 50%"] == 1 and counts["新增收入"] == 1


def test_current_plans_match_the_bills_across_versions_and_contract_years(ops_user):
    # given an annual package whose contract year began in March, with shoots before the
    # compared months counting against its quota
    series = DeviceSeriesFactory(code="L")
    annual = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
    PricePlanFactory(
        customer=annual,
        series=series,
        kind=PricePlan.Kind.ANNUAL,
        annual_fee=D("1200"),
        fee_schedule=PricePlan.FeeSchedule.MONTHLY,
        annual_quota=6,
        overage_price=D("9"),
        contract_start=dt.date(2025, 3, 1),
    )
    for day, shots in (
        (dt.date(2025, 5, 2), 4),
        (dt.date(2025, 7, 9), 3),
        (dt.date(2025, 8, 9), 2),
    ):
        UsageRecordFactory(customer=annual, series=series, shot_date=day, shots=shots)
    # and a per-shoot customer whose new version starts on the first of August
    changed = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
    PricePlanFactory(
        customer=changed, series=series, single_price=D("5"), valid_to=dt.date(2025, 7, 31)
    )
    PricePlanFactory(
        customer=changed,
        series=series,
        kind=PricePlan.Kind.TIERED,
        bands_shared=[{"up_to": 2, "price": "10"}, {"up_to": None, "price": "4"}],
        valid_from=dt.date(2025, 8, 1),
    )
    for day in (dt.date(2025, 7, 3), dt.date(2025, 8, 3)):
        UsageRecordFactory(customer=changed, series=series, shot_date=day, shots=3)
    # and one whose plan ended before the compared months (usage only then)
    gone = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
    PricePlanFactory(customer=gone, series=series, valid_to=dt.date(2025, 6, 30))
    UsageRecordFactory(customer=gone, series=series, shot_date=dt.date(2025, 6, 3))
    for month in MONTHS[:2]:
        bills_generate_for_period(period=month, user=ops_user)
    for bill in Bill.objects.all():
        bill_issue(user=ops_user, bill=bill)

    # when the what-if re-prices July and August
    result = whatif_compute(
        customers_qs=Customer.objects.all(),
        series_id=series.pk,
        candidate=PlanTerms(kind=PER_SHOOT, single_price=D("9")),
        first_month=MONTHS[0],
        last_month=MONTHS[1],
    )

    # then the current plans give what the issued bills charged, and the customer
    # without a plan or usage in those months has no row
    issued = {annual.pk: D("0"), changed.pk: D("0")}
    for bill in Bill.objects.all():
        issued[bill.customer_id] += bill.total
    assert {r.customer_id: r.current for r in result.rows} == issued
    # July: 5 × 3 = 15; August (tiered): 2 × 10 + 1 × 4 = 24; annual: 100 + 100 + 3 × 9 overage
    assert issued == {annual.pk: D("227.00"), changed.pk: D("39.00")}
    assert {r.customer_id: r.candidate for r in result.rows} == {
        annual.pk: D("45.00"),
        changed.pk: D("54.00"),
    }
