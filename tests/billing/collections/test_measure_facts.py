"""The 24-hour measure's per-bill facts (billing/collections/facts.py) equal a recompute from
the bills and allocations after every kind of write, and the measure read from them equals the
measure computed from the allocations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.roles import Role
from billing.bills.services import bill_reverse
from billing.collections import facts
from billing.collections.selectors import measure_24h, overdue_start
from billing.models import Bill, BillMeasureFact, MeasureCase, PaymentAllocation
from billing.payments.services import allocation_undo, payment_allocate, payment_record
from customers.models import Customer
from customers.services import customer_soft_delete
from tests import factories

pytestmark = pytest.mark.django_db

FIELDS = (
    "bill_id",
    "customer_id",
    "due_date",
    "start",
    "total",
    "paid_before",
    "collected",
    "sales_owner_id",
    "customer_deleted",
)


CASE_FIELDS = (
    "customer_id",
    "due_date",
    "start",
    "sales_owner_id",
    "customer_deleted",
    "bills",
    "owed",
    "collected",
)


def kept() -> set:
    return set(BillMeasureFact.objects.values_list(*FIELDS))


def kept_cases() -> set:
    return set(MeasureCase.objects.values_list(*CASE_FIELDS))


def assert_kept_equals_recompute() -> set:
    """The facts and the cases kept on write equal a rebuild; returns the facts."""
    before, cases_before = kept(), kept_cases()
    facts.rebuild()
    assert kept() == before
    assert kept_cases() == cases_before
    assert not MeasureCase.objects.filter(bills=0).exists()
    return before


def measure_figures(user, date_from, date_to, **kwargs) -> tuple:
    m = measure_24h(user, date_from=date_from, date_to=date_to, **kwargs)
    rows = [
        (r.label, r.newly_overdue, r.contacted, r.overdue_amount, r.collected) for r in m.by_sales
    ]
    cases = [(c["customer"].pk, c["start"], c["owed"], c["collected"]) for c in m.cases]
    return (
        m.total.newly_overdue,
        m.total.contacted,
        m.total.overdue_amount,
        m.total.collected,
        rows,
        cases,
    )


def assert_facts_measure_equals_allocations(monkeypatch, user, date_from, date_to) -> tuple:
    """The measure from the facts, and from the allocations (the facts' zone made another one),
    with and without its cases, are the same figures."""
    from_facts = measure_figures(user, date_from, date_to)
    summary = measure_figures(user, date_from, date_to, with_cases=False)
    with monkeypatch.context() as patched:
        patched.setattr(facts, "zone", lambda: "UTC")
        from_allocations = measure_figures(user, date_from, date_to)
    assert from_facts == from_allocations
    assert summary[:5] == from_facts[:5]
    return from_facts


def move_allocation(allocation: PaymentAllocation, at: dt.datetime) -> None:
    PaymentAllocation.objects.filter(pk=allocation.pk).update(created_at=at)


def test_facts_follow_a_mixed_sequence_of_bill_and_allocation_writes(monkeypatch):
    ops = factories.UserFactory(role=Role.OPS, username="facts-ops")
    admin = factories.UserFactory(role=Role.ADMIN, username="facts-admin")
    sales = factories.UserFactory(role=Role.SALES, username="facts-sales", full_name="张三")
    alpha = factories.CustomerFactory(sales_owner=sales)
    beta = factories.CustomerFactory(sales_owner=None)
    today = timezone.localdate()

    # Given bills issued through the service, due before and after today; a draft counts nowhere
    def issue(customer, amount, due_in_days, month):
        return factories.issued_bill(
            user=ops,
            customer=customer,
            period=dt.date(2025, month, 1),
            lines=(amount,),
            due_date=today + dt.timedelta(days=due_in_days),
        )

    overdue = issue(alpha, "300.00", -5, 7)  # fell overdue 4 days ago
    same_day = issue(alpha, "50.50", -5, 8)  # the same case
    future = issue(alpha, "200.00", 10, 9)  # not yet overdue: a payment now comes before it
    other = issue(beta, "999.99", -20, 10)
    factories.BillFactory(customer=beta, period=dt.date(2025, 11, 1), lines=["7.00"])
    assert {row[0] for row in assert_kept_equals_recompute()} == {
        overdue.pk,
        same_day.pk,
        future.pk,
        other.pk,
    }

    # When payments are allocated: collected on the overdue bills, paid before on the future one
    payment = payment_record(
        user=ops, customer=alpha, amount=D("500.00"), received_on=today, method="bank"
    )
    allocations = payment_allocate(
        user=ops,
        payment=payment,
        allocations=[(overdue, D("100.00")), (future, D("200.00")), (same_day, D("50.50"))],
    )
    beta_payment = payment_record(
        user=ops, customer=beta, amount=D("999.99"), received_on=today, method="bank"
    )
    (beta_allocation,) = payment_allocate(
        user=ops, payment=beta_payment, allocations=[(other, D("999.99"))]
    )
    rows = {row[0]: row for row in assert_kept_equals_recompute()}
    assert rows[overdue.pk][5:7] == (D("0.00"), D("100.00"))
    assert rows[future.pk][5:7] == (D("200.00"), D("0.00"))
    window = (today - dt.timedelta(days=40), today + dt.timedelta(days=20))
    assert_facts_measure_equals_allocations(monkeypatch, ops, *window)

    # an allocation moved in time (before the bill fell overdue; past the 30 days), one undone
    move_allocation(allocations[0], overdue_start(overdue.due_date) - dt.timedelta(hours=1))
    move_allocation(beta_allocation, overdue_start(other.due_date) + dt.timedelta(days=31))
    allocation_undo(user=ops, allocation=allocations[2], reason="录错账单")
    rows = {row[0]: row for row in assert_kept_equals_recompute()}
    assert rows[overdue.pk][5:7] == (D("100.00"), D("0.00"))
    assert rows[other.pk][5:7] == (D("0.00"), D("0.00"))
    assert rows[same_day.pk][5:7] == (D("0.00"), D("0.00"))
    figures = assert_facts_measure_equals_allocations(monkeypatch, ops, *window)
    # alpha's case (300 − 100 paid before + 50.50) and beta's case (999.99), nothing collected
    assert figures[:4] == (2, 0, D("1250.49"), D("0.00"))

    # drafts given a due date and issued in one bulk statement (a draft's due date may move)
    drafts = [
        factories.BillFactory(customer=beta, period=dt.date(2025, month, 1), lines=["10.00"])
        for month in (1, 2)
    ]
    Bill.objects.filter(pk__in=[d.pk for d in drafts]).update(due_date=today)
    Bill.objects.filter(pk__in=[d.pk for d in drafts]).update(
        due_date=today - dt.timedelta(days=3), status=Bill.Status.ISSUED
    )
    rows = {row[0]: row for row in assert_kept_equals_recompute()}
    assert {d.pk for d in drafts} <= set(rows)
    allocation_undo(user=ops, allocation=allocations[1], reason="退款")
    bill_reverse(user=ops, bill=Bill.objects.get(pk=future.pk), reason="金额错误")
    rows = {row[0]: row for row in assert_kept_equals_recompute()}
    assert future.pk not in rows  # a reversed bill is not counted
    assert_facts_measure_equals_allocations(monkeypatch, ops, *window)
    # and the salesperson sees the own customer's case only
    (alpha_case,) = measure_figures(sales, *window)[5]
    assert alpha_case[0] == alpha.pk

    # beta passes to the salesperson, and a customer is soft-deleted: the rows follow, and the
    # measure (deleted customers left out) is the same from the facts and the allocations
    Customer.objects.filter(pk=beta.pk).update(sales_owner=sales)
    assert {case[0] for case in measure_figures(sales, *window)[5]} == {alpha.pk, beta.pk}
    # (a customer with open bills cannot be deleted: gamma, the salesperson's, pays in full)
    gamma = factories.CustomerFactory(sales_owner=sales)
    gamma_bill = issue(gamma, "66.00", -6, 11)
    gamma_payment = payment_record(
        user=ops, customer=gamma, amount=D("66.00"), received_on=today, method="bank"
    )
    payment_allocate(user=ops, payment=gamma_payment, allocations=[(gamma_bill, D("66.00"))])
    assert gamma.pk in {case[0] for case in measure_figures(sales, *window)[5]}
    customer_soft_delete(user=admin, customer=Customer.objects.get(pk=gamma.pk))
    rows = {row[0]: row for row in assert_kept_equals_recompute()}
    assert rows[gamma_bill.pk][5:] == (D("0.00"), D("66.00"), sales.pk, True)
    assert rows[other.pk][7:] == (sales.pk, False)
    figures = assert_facts_measure_equals_allocations(monkeypatch, sales, *window)
    assert {case[0] for case in figures[5]} == {alpha.pk, beta.pk}

    # the allocations deleted in one raw statement (a restore, the shell) leave no stale sum
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_paymentallocation WHERE bill_id = %s", [overdue.pk])
    assert kept() == assert_kept_equals_recompute()
    assert {row[0]: row for row in kept()}[overdue.pk][5:7] == (D("0.00"), D("0.00"))


def test_a_new_time_zone_reads_from_the_allocations_until_the_facts_are_rebuilt(monkeypatch):
    ops = factories.UserFactory(role=Role.OPS, username="facts-ops-zone")
    customer = factories.CustomerFactory()
    today = timezone.localdate()
    bill = factories.issued_bill(
        user=ops, customer=customer, lines=("80.00",), due_date=today - dt.timedelta(days=2)
    )
    window = (today - dt.timedelta(days=10), today)
    assert facts.zone() == "Asia/Shanghai"
    fact = BillMeasureFact.objects.get(bill=bill)
    assert fact.start == overdue_start(bill.due_date)

    with override_settings(TIME_ZONE="Europe/London"), timezone.override("Europe/London"):
        # the facts still hold Shanghai's midnight: the measure computes from the allocations
        london_start = overdue_start(bill.due_date)
        assert london_start != fact.start
        m = measure_24h(ops, date_from=window[0], date_to=window[1])
        assert [c["start"] for c in m.cases] == [london_start]
        # rebuilt, the facts are London's and give the same figures
        facts.rebuild()
        assert facts.zone() == "Europe/London"
        assert BillMeasureFact.objects.get(bill=bill).start == london_start
        assert_facts_measure_equals_allocations(monkeypatch, ops, *window)
    facts.rebuild()
    assert facts.zone() == "Asia/Shanghai"
