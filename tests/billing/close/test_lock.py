"""The period lock: a closed month refuses every write path (service, HTML, API, command, admin, SQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from billing.bills.services import bill_add_manual_line, bills_generate_for_period
from billing.models import Bill, BillLine, PricePlan, UsageRecord
from billing.plans.services import plan_create, plan_new_version
from tests.factories import (
    BillFactory,
    CustomerFactory,
    DeviceSeriesFactory,
    PeriodFactory,
    PricePlanFactory,
    UsageRecordFactory,
)

pytestmark = pytest.mark.django_db
OCT = date(2025, 10, 1)


@pytest.fixture
def closed_month():
    """October closed, holding a usage record, a draft bill (a forced close) and a plan."""
    series = DeviceSeriesFactory(code="L")
    customer = CustomerFactory()
    plan = PricePlanFactory(customer=customer, series=series, valid_from=date(2025, 1, 1))
    record = UsageRecordFactory(customer=customer, series=series)
    draft = BillFactory(customer=customer, lines=[D("10")])
    PeriodFactory(month=OCT)
    return {"series": series, "customer": customer, "plan": plan, "record": record, "draft": draft}


def refused():
    return pytest.raises(IntegrityError, match="已关账")


# --- services --------------------------------------------------------------------------


def test_services_refuse_with_a_clerks_message(closed_month, ops_user):
    with pytest.raises(ValidationError, match="2025-10 已关账"):
        bills_generate_for_period(period=OCT, user=ops_user)
    with pytest.raises(ValidationError, match="2025-10 已关账"):
        bill_add_manual_line(
            user=ops_user, bill=closed_month["draft"], amount=D("5"), explanation="", reason="补"
        )
    with pytest.raises(ValidationError, match="2025-10 已关账"):
        plan_create(
            user=ops_user,
            customer=CustomerFactory(),
            series=closed_month["series"],
            data={"kind": "per_shoot", "single_price": D("9"), "valid_from": date(2025, 10, 15)},
        )
    with pytest.raises(ValidationError, match="2025-10 已关账"):
        plan_new_version(
            user=ops_user, plan=closed_month["plan"], valid_from=date(2025, 10, 20), data={}
        )
    # a version taking effect in the next open month is fine: the old one ends on 10-31
    new = plan_new_version(
        user=ops_user, plan=closed_month["plan"], valid_from=date(2025, 11, 1), data={}
    )
    assert new.valid_from == date(2025, 11, 1)


# --- the database, whatever the path ------------------------------------------------------


def test_raw_queryset_writes_are_refused(closed_month):
    record, draft, plan = closed_month["record"], closed_month["draft"], closed_month["plan"]
    for write in (
        lambda: UsageRecord.objects.filter(pk=record.pk).update(shots=99),
        lambda: UsageRecord.objects.filter(pk=record.pk).delete(),
        lambda: UsageRecordFactory(customer=record.customer, series=record.series),
        lambda: Bill.objects.filter(pk=draft.pk).update(total=D("1")),
        lambda: Bill.objects.filter(pk=draft.pk).delete(),
        lambda: BillFactory(customer=CustomerFactory()),
        lambda: BillLine.objects.filter(bill=draft).update(amount=D("1")),
        lambda: PricePlan.objects.filter(pk=plan.pk).update(valid_to=date(2025, 10, 15)),
        lambda: PricePlanFactory(series=plan.series, valid_from=date(2025, 10, 2)),
    ):
        with transaction.atomic(), refused():
            write()
    assert UsageRecord.objects.get(pk=record.pk).shots == record.shots


def test_late_usage_is_accepted_by_the_database_when_billed_in_an_open_month(closed_month):
    record = UsageRecordFactory(
        customer=closed_month["customer"],
        series=closed_month["series"],
        billed_in_period=date(2025, 11, 1),
    )
    assert record.pk


def test_html_refuses_a_manual_line(closed_month, client, ops_user):
    client.force_login(ops_user)
    draft = closed_month["draft"]
    response = client.post(
        reverse("billing:bill-add-line", args=[draft.pk]),
        {"amount": "5", "explanation": "", "reason": "补"},
        follow=True,
    )
    assert "2025-10 已关账" in response.text
    assert draft.lines.count() == 1


def test_api_refuses_a_plan_inside_the_closed_month(closed_month, ops_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(ops_user).access_token}")
    response = client.post(
        "/api/price-plans/create/",
        {
            "customer": CustomerFactory().pk,
            "series": "L",
            "kind": "per_shoot",
            "valid_from": "2025-10-10",
            "single_price": "9.00",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "2025-10 已关账" in response.text


def test_command_refuses_generation(closed_month, admin_user):
    with pytest.raises(CommandError, match="2025-10 已关账"):
        call_command("generate_bills", "2025-10")


def test_admin_refuses_edits_and_deletes(closed_month, client, admin_user):
    client.force_login(admin_user)
    record = closed_month["record"]
    url = reverse("admin:billing_usagerecord_change", args=[record.pk])
    response = client.post(
        url,
        {
            "customer": record.customer_id,
            "series": record.series_id,
            "shot_date": "2025-10-16",
            "shots": "50",
            "floors": "1",
            "source_ref": record.source_ref,
            "source": "manual",
            "note": "",
        },
    )
    assert response.status_code == 200 and "2025-10 已关账" in response.text
    assert UsageRecord.objects.get(pk=record.pk).shots == 1
    delete = client.post(
        reverse("admin:billing_usagerecord_delete", args=[record.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert UsageRecord.objects.filter(pk=record.pk).exists()


# --- bill lines, checked once per statement (billing/line_guards.py) ---------------------


def test_lines_written_in_bulk_are_checked_as_a_whole(closed_month, ops_user):
    # Given an issued bill, a draft of the closed month and a draft of an open month
    from tests.factories import BillFactory, issued_bill

    issued = issued_bill(user=ops_user, period=date(2025, 11, 1), lines=["100.00"])
    closed_draft = closed_month["draft"]
    open_draft = BillFactory(period=date(2025, 11, 1), lines=[D("1")])

    def lines(bill, n):
        return [
            BillLine(bill=bill, position=10 + i, amount=D("1.00"), explanation="批量")
            for i in range(n)
        ]

    # When lines are inserted in bulk with one of them on the issued bill, nothing is written
    with pytest.raises(IntegrityError, match="frozen"), transaction.atomic():
        BillLine.objects.bulk_create([*lines(open_draft, 3), *lines(issued, 1)])
    assert open_draft.lines.count() == 1
    # and the closed month's draft takes no line inserted or deleted, in bulk or alone
    with refused(), transaction.atomic():
        BillLine.objects.bulk_create(lines(closed_draft, 2))
    with refused(), transaction.atomic():
        BillLine.objects.filter(bill=closed_draft).delete()
    # and the issued bill's lines cannot be deleted
    with pytest.raises(IntegrityError, match="frozen"), transaction.atomic():
        BillLine.objects.filter(bill__in=[issued, open_draft]).delete()
    assert issued.lines.count() == 1 and closed_draft.lines.count() == 1
    # Then a draft of an open month still takes and loses lines freely
    BillLine.objects.bulk_create(lines(open_draft, 3))
    BillLine.objects.filter(bill=open_draft).delete()
    assert open_draft.lines.count() == 0


def test_bills_inserted_in_bulk_are_checked_as_a_whole(closed_month):
    # Given October closed and November open
    a, b = CustomerFactory(), CustomerFactory()

    def draft(customer, period, kind=Bill.Kind.BILL):
        return Bill(
            customer=customer, period=period, kind=kind, number=f"T-{customer.pk}-{period:%m}"
        )

    # When one bill of a bulk insert falls in the closed month, none is written
    with refused(), transaction.atomic():
        Bill.objects.bulk_create([draft(a, date(2025, 11, 1)), draft(b, OCT)])
    assert not Bill.objects.filter(customer__in=[a, b]).exists()
    # Then bills of the open month, and a credit note in the closed one, go in together
    Bill.objects.bulk_create(
        [draft(a, date(2025, 11, 1)), draft(b, OCT, kind=Bill.Kind.CREDIT_NOTE)]
    )
    assert Bill.objects.filter(customer__in=[a, b]).count() == 2
