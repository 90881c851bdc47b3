"""Renewal pipeline: what enters the 60-day window, value and need, stages moved and audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.collections.pipeline import pipeline_by_month, pipeline_items, renewal_stage_move
from billing.models import PricePlan, RenewalStage
from customers.models import Renewal
from tests.factories import CustomerFactory, PricePlanFactory, RenewalFactory, UsageRecordFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def pipeline_world(team):
    customer = CustomerFactory(name="续约房产", sales_owner=team["sales1"])
    # an annual package whose contract year 2026-01..12 ends on 2026-12-31 (31 days away)
    plan = PricePlanFactory(
        customer=customer,
        kind=PricePlan.Kind.ANNUAL,
        annual_fee=Decimal("12000.00"),
        annual_quota=1200,
        overage_price=Decimal("5.00"),
        contract_start=dt.date(2026, 1, 1),
        valid_from=dt.date(2026, 1, 1),
    )
    # run-rate 150 a month (August-October) → next year 1,800 shots: 600 over → ¥3,000
    for month in (8, 9, 10):
        UsageRecordFactory(
            customer=customer, series=plan.series, shot_date=dt.date(2026, month, 3), shots=150
        )
    renewal = RenewalFactory(customer=customer, expires_on=dt.date(2027, 1, 20), amount="8000")
    RenewalFactory(customer=customer, expires_on=dt.date(2027, 3, 1), amount="999")  # too far
    other = CustomerFactory(sales_owner=team["other"])
    RenewalFactory(customer=other, expires_on=dt.date(2026, 12, 10))  # out of sales1's scope
    return {"plan": plan, "renewal": renewal}


def test_pipeline_lists_items_expiring_within_60_days_with_value_and_need(team, pipeline_world):
    items = pipeline_items(team["sales1"], today=TODAY)

    assert [(i.kind, i.expires_on) for i in items] == [
        ("plan", dt.date(2026, 12, 31)),
        ("renewal", dt.date(2027, 1, 20)),
    ]
    package, renewal = items
    assert package.projected_need == Decimal("15000.00")  # ¥12,000 fee + 600 × ¥5.00
    assert renewal.projected_need == Decimal("8000.00")
    assert {i.stage for i in items} == {RenewalStage.Stage.TO_CONTACT}
    assert [(m["month"], m["expected"]) for m in pipeline_by_month(items)] == [
        (dt.date(2026, 12, 1), Decimal("15000.00")),
        (dt.date(2027, 1, 1), Decimal("8000.00")),
    ]


def test_stage_changes_are_audited_and_lost_items_leave_the_expected_total(team, pipeline_world):
    plan = pipeline_world["plan"]
    renewal_stage_move(user=team["sales1"], kind="plan", pk=plan.pk, stage="negotiating")
    row = renewal_stage_move(user=team["sales1"], kind="plan", pk=plan.pk, stage="lost")

    entries = LogEntry.objects.get_for_object(row).order_by("pk")
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert entries.last().actor == team["sales1"]
    assert entries.last().changes_dict["stage"] == ["negotiating", "lost"]
    items = pipeline_items(team["sales1"], today=TODAY)
    assert [m["expected"] for m in pipeline_by_month(items)] == [Decimal("8000.00")]


def test_stage_of_an_item_outside_scope_is_refused(team, pipeline_world):
    renewal = Renewal.objects.exclude(customer__sales_owner=team["sales1"]).get()
    with pytest.raises(ValidationError, match="不在你的客户范围内"):
        renewal_stage_move(user=team["sales1"], kind="renewal", pk=renewal.pk, stage="lost")


def test_pipeline_page_moves_a_stage(client, team, pipeline_world):
    client.force_login(team["sales1"])
    renewal = pipeline_world["renewal"]
    response = client.post(
        reverse("billing:collections-renewal-stage", args=[renewal.pk]), {"stage": "renewed"}
    )
    assert response.status_code == 302
    assert RenewalStage.objects.get(renewal=renewal).stage == "renewed"
    page = client.get(reverse("billing:collections-pipeline")).content.decode()
    assert 'data-kind="renewal"' in page and "续约房产" in page
