"""The money totals kept on write (billing/money_totals.py) equal a recompute from the bills
and payments after every kind of money operation: issue, allocation, its undo, reversal and
the corrected bill, credit, payment deletion, a customer's new owner, grade or group, soft
delete, and bulk statements."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Case, Value, When

from accounts.roles import Role
from billing import money_totals
from billing.bills.services import bill_issue, bill_reverse
from billing.models import (
    Bill,
    BillMeasureFact,
    BillTotal,
    CustomerBilledTotal,
    CustomerPaymentTotal,
    Payment,
    PaymentTotal,
    UsageDayTotal,
    UsageRecord,
)
from billing.payments.services import (
    allocation_undo,
    bill_apply_credit,
    payment_allocate,
    payment_record,
)
from customers.models import Customer
from customers.services import customer_soft_delete
from tests import factories

pytestmark = pytest.mark.django_db

TABLES = {
    BillTotal: (
        "sales_owner_id",
        "level",
        "group_id",
        "period",
        "status",
        "due_date",
        "bills",
        "open_bills",
        "total",
        "amount_paid",
    ),
    PaymentTotal: ("sales_owner_id", "level", "month", "payments", "amount", "allocated"),
    CustomerPaymentTotal: ("customer_id", "payments", "amount", "allocated"),
    CustomerBilledTotal: ("customer_id", "bills", "revenue", "received"),
    UsageDayTotal: ("sales_owner_id", "deleted", "day", "records", "shots", "floor_shots"),
}


def kept() -> dict:
    return {model: Counter(model.objects.values_list(*fields)) for model, fields in TABLES.items()}


def assert_kept_equals_recompute() -> dict:
    before = kept()
    money_totals.rebuild()
    assert kept() == before
    # no row is left for a key with nothing in it
    assert not BillTotal.objects.filter(bills=0).exists()
    assert not PaymentTotal.objects.filter(payments=0).exists()
    assert not CustomerPaymentTotal.objects.filter(payments=0).exists()
    assert not CustomerBilledTotal.objects.filter(bills=0).exists()
    assert not UsageDayTotal.objects.filter(records=0).exists()
    return before


def test_totals_follow_a_mixed_sequence_of_money_operations():
    ops = factories.UserFactory(role=Role.OPS, username="totals-ops")
    admin = factories.UserFactory(role=Role.ADMIN, username="totals-admin")
    first = factories.UserFactory(role=Role.SALES, username="totals-s1")
    second = factories.UserFactory(role=Role.SALES, username="totals-s2")
    group = factories.CustomerGroupFactory()
    alpha = factories.CustomerFactory(sales_owner=first, level="A")
    beta = factories.CustomerFactory(sales_owner=second, level="B", group=group)
    gamma = factories.CustomerFactory(sales_owner=None, level="")
    # the customers' billed totals count August to October 2025 (November's draft is outside)
    money_totals.billed_window_set(dt.date(2025, 8, 1), dt.date(2025, 10, 1))

    # bills issued over three months, a draft that counts nowhere
    bills = [
        factories.issued_bill(
            user=ops,
            customer=customer,
            period=dt.date(2025, month, 1),
            lines=(amount,),
            due_date=dt.date(2025, month + 1, 15),
        )
        for customer, month, amount in [
            (alpha, 8, "100.10"),
            (alpha, 9, "200.20"),
            (alpha, 10, "300.33"),
            (beta, 9, "999.99"),
            (beta, 10, "50.00"),
            (gamma, 10, "12.34"),
        ]
    ]
    factories.BillFactory(customer=gamma, period=dt.date(2025, 11, 1), lines=["7.00"])
    assert_kept_equals_recompute()

    # payments, allocations (partly and fully), oldest first across bills, credit
    pay_alpha = payment_record(
        user=ops,
        customer=alpha,
        amount=D("250.00"),
        received_on=dt.date(2025, 10, 3),
        method="bank",
    )
    allocations = payment_allocate(
        user=ops, payment=pay_alpha, allocations=[(bills[0], D("100.10")), (bills[1], D("50.05"))]
    )
    pay_beta = payment_record(
        user=ops,
        customer=beta,
        amount=D("1000.00"),
        received_on=dt.date(2025, 11, 20),
        method="bank",
    )
    payment_allocate(user=ops, payment=pay_beta, allocations=[(bills[3], D("999.99"))])
    bill_apply_credit(user=ops, bill=bills[4])  # the 0.01 left of beta's payment
    assert_kept_equals_recompute()

    # undo an allocation, reverse the bill it paid and issue a corrected one
    allocation_undo(user=ops, allocation=allocations[1], reason="录错账单")
    bill_reverse(user=ops, bill=Bill.objects.get(pk=bills[1].pk), reason="金额错误")
    corrected = bill_issue(
        user=ops,
        bill=factories.BillFactory(
            customer=alpha, period=dt.date(2025, 9, 1), number="BILL-CORRECTED", lines=["180.00"]
        ),
        due_date=dt.date(2025, 10, 15),
    )
    payment_allocate(user=ops, payment=pay_alpha, allocations=[(corrected, D("149.90"))])
    assert_kept_equals_recompute()

    # a payment recorded by mistake and deleted; one moved to another customer
    wrong = payment_record(
        user=ops, customer=gamma, amount=D("5.55"), received_on=dt.date(2025, 12, 1), method="cash"
    )
    moved = payment_record(
        user=ops, customer=gamma, amount=D("6.66"), received_on=dt.date(2025, 12, 2), method="cash"
    )
    wrong.delete()
    Payment.objects.filter(pk=moved.pk).update(customer=alpha)
    assert_kept_equals_recompute()

    # the customers get a new owner, grade and group (one of them in a bulk statement)
    Customer.objects.filter(pk=alpha.pk).update(sales_owner=second, level="S")
    Customer.objects.filter(pk__in=[beta.pk, gamma.pk]).update(group=None, sales_owner=first)
    factories.CustomerGroupFactory()  # an unrelated write
    group.delete()
    first.delete()  # customers' owner set to nobody
    assert_kept_equals_recompute()

    # swapped in one statement: the two moves land on each other's key
    Customer.objects.filter(pk=alpha.pk).update(level="C")
    Customer.objects.filter(pk=beta.pk).update(level="B")
    Customer.objects.filter(pk__in=[alpha.pk, beta.pk]).update(
        level=Case(When(pk=alpha.pk, then=Value("B")), default=Value("C"))
    )
    assert_kept_equals_recompute()

    # soft delete of a customer whose bills are paid: its money stays counted
    gamma_bill = Bill.objects.get(customer=gamma, kind=Bill.Kind.BILL, status=Bill.Status.ISSUED)
    credit = payment_record(
        user=ops, customer=gamma, amount=D("12.34"), received_on=dt.date(2025, 12, 5), method="cash"
    )
    payment_allocate(user=ops, payment=credit, allocations=[(gamma_bill, D("12.34"))])
    customer_soft_delete(user=admin, customer=Customer.objects.get(pk=gamma.pk))
    totals = assert_kept_equals_recompute()
    assert totals[CustomerPaymentTotal]
    # alpha: 100.10 + 300.33 + the corrected 180.00 (September's reversed bill left the window)
    assert (alpha.pk, 3, D("580.43"), D("100.10") + D("149.90")) in totals[CustomerBilledTotal]
    # moving the window recounts: October alone
    assert money_totals.billed_window_set(dt.date(2025, 10, 1), dt.date(2025, 10, 1)) is True
    assert money_totals.billed_window() == (dt.date(2025, 10, 1), dt.date(2025, 10, 1))
    # (a second caller finds the window moved and recomputes nothing)
    assert money_totals.billed_window_set(dt.date(2025, 10, 1), dt.date(2025, 10, 1)) is False
    october = assert_kept_equals_recompute()[CustomerBilledTotal]
    assert (alpha.pk, 1, D("300.33"), D("0.00")) in october


def test_totals_are_exact_sums_of_the_rows():
    ops = factories.UserFactory(role=Role.OPS, username="totals-ops2")
    for amount in ("0.01", "0.02", "1234567.89"):
        factories.issued_bill(
            user=ops,
            customer=factories.CustomerFactory(level="C"),
            lines=(amount,),
            due_date=dt.date(2025, 12, 1),
        )
    row = BillTotal.objects.get(level="C", status="issued")
    assert (row.bills, row.open_bills, row.total, row.amount_paid) == (3, 3, D("1234567.92"), 0)


def test_rebuild_command_restores_rows_written_with_the_triggers_off(capsys):
    # Given an issued bill whose kept rows were lost (a restore of partial tables)
    ops = factories.UserFactory(role=Role.OPS, username="totals-ops3")
    bill = factories.issued_bill(
        user=ops,
        customer=factories.CustomerFactory(),
        lines=("42.00",),
        due_date=dt.date(2025, 11, 3),
    )
    money_totals.billed_window_set(dt.date(2025, 10, 1), dt.date(2025, 10, 1))
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM billing_billtotal; DELETE FROM billing_customerbilledtotal;"
            " DELETE FROM billing_billmeasurefact;"
        )

    # When the command runs / Then every kept row is back and the counts are printed
    call_command("rebuild_money_totals")
    assert BillTotal.objects.get().total == D("42.00")
    assert CustomerBilledTotal.objects.get().revenue == D("42.00")
    assert BillMeasureFact.objects.get().bill_id == bill.pk
    out = capsys.readouterr().out
    assert "账单汇总 1 行" in out and "24 小时跟进账单事实 1 行" in out


def test_usage_day_totals_follow_records_owners_and_deletion():
    admin = factories.UserFactory(role=Role.ADMIN, username="usage-admin")
    first = factories.UserFactory(role=Role.SALES, username="usage-s1")
    second = factories.UserFactory(role=Role.SALES, username="usage-s2")
    alpha = factories.CustomerFactory(sales_owner=first)
    beta = factories.CustomerFactory(sales_owner=None)
    day = dt.date(2025, 10, 16)

    # Given records entered one by one and in one bulk statement, two on the same day
    one = factories.UsageRecordFactory(customer=alpha, shot_date=day, shots=3, floors=2)
    factories.UsageRecordFactory(customer=alpha, shot_date=day, shots=1, floors=5)
    UsageRecord.objects.bulk_create(
        UsageRecord(customer=beta, series=one.series, shot_date=day + dt.timedelta(days=d), shots=d)
        for d in (1, 2, 3)
    )
    row = UsageDayTotal.objects.get(sales_owner=first, day=day)
    assert (row.records, row.shots, row.floor_shots) == (2, 4, 11)
    assert_kept_equals_recompute()

    # When a record changes day and size, one is deleted, the customers change owner
    UsageRecord.objects.filter(pk=one.pk).update(shot_date=day - dt.timedelta(days=1), shots=7)
    UsageRecord.objects.filter(customer=beta, shots=2).delete()
    Customer.objects.filter(pk__in=[alpha.pk, beta.pk]).update(sales_owner=second)
    assert_kept_equals_recompute()
    assert not UsageDayTotal.objects.filter(sales_owner=first).exists()

    # and one is soft-deleted: its usage moves to the deleted rows, the others stay
    customer_soft_delete(user=admin, customer=Customer.objects.get(pk=beta.pk))
    kept_rows = assert_kept_equals_recompute()[UsageDayTotal]
    assert {(deleted, records) for _, deleted, _, records, _, _ in kept_rows} == {
        (False, 1),
        (True, 1),
    }
