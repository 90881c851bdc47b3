"""Payments: record (idempotent, unique bank reference), allocate, oldest first, undo, invariants."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from billing.bills.services import bill_reverse
from billing.models import Bill, Payment, PaymentAllocation
from billing.payments.services import (
    DuplicateBankRefError,
    allocation_undo,
    bill_apply_credit,
    customer_credit,
    payment_allocate,
    payment_allocate_oldest_first,
    payment_record,
)
from tests.factories import BillFactory, CustomerFactory, PaymentFactory, issued_bill

pytestmark = pytest.mark.django_db

D = Decimal


def record(user, customer, amount="100.00", **kwargs):
    kwargs.setdefault("received_on", dt.date(2025, 11, 5))
    kwargs.setdefault("method", Payment.Method.BANK)
    return payment_record(user=user, customer=customer, amount=D(amount), **kwargs)


# --- recording -------------------------------------------------------------------


def test_record_payment(ops_user):
    customer = CustomerFactory()
    payment = record(ops_user, customer, "88.888", bank_ref=" TRX1 ", payer="张三", note="十月款")
    assert payment.amount == D("88.89")
    assert payment.bank_ref == "TRX1"
    assert payment.unallocated == D("88.89")
    assert payment.created_by == ops_user


def test_replayed_request_with_same_idempotency_key_records_one_payment(ops_user):
    customer = CustomerFactory()
    first = record(ops_user, customer, idempotency_key="b7f0c6e2", bank_ref="TRX9")
    again = record(ops_user, customer, idempotency_key="b7f0c6e2", bank_ref="TRX9")
    assert again.pk == first.pk
    assert Payment.objects.count() == 1


def test_duplicate_bank_reference_for_same_method_is_refused_naming_the_first(ops_user):
    customer = CustomerFactory()
    first = record(ops_user, customer, bank_ref="TRX-77")

    with pytest.raises(DuplicateBankRefError) as exc:
        record(ops_user, CustomerFactory(), bank_ref="TRX-77")

    assert exc.value.existing == first
    assert "已登记" in exc.value.messages[0]
    # the same reference under another method is a different transaction
    assert record(ops_user, customer, bank_ref="TRX-77", method=Payment.Method.ALIPAY).pk


def test_duplicate_bank_reference_is_refused_by_the_database_too():
    customer = CustomerFactory()
    PaymentFactory(customer=customer, bank_ref="SAME")
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentFactory(customer=customer, bank_ref="SAME")


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_non_positive_payment_is_refused(ops_user, amount):
    with pytest.raises(ValidationError, match="大于 0"):
        record(ops_user, CustomerFactory(), amount)


# --- allocating --------------------------------------------------------------------


def test_allocate_across_two_bills_paid_and_partially_paid(ops_user):
    customer = CustomerFactory()
    oct_bill = issued_bill(user=ops_user, customer=customer, lines=["100.00"])
    nov_bill = issued_bill(
        user=ops_user, customer=customer, period=dt.date(2025, 11, 1), lines=["80.00"]
    )
    payment = PaymentFactory(customer=customer, amount=D("150.00"))

    allocations = payment_allocate(
        user=ops_user, payment=payment, allocations=[(oct_bill, D("100")), (nov_bill, D("50"))]
    )

    assert len(allocations) == 2
    oct_bill.refresh_from_db()
    nov_bill.refresh_from_db()
    payment.refresh_from_db()
    assert oct_bill.status == Bill.Status.PAID
    assert nov_bill.status == Bill.Status.PARTIALLY_PAID
    assert nov_bill.balance == D("30.00")
    assert payment.allocated == D("150.00")


def test_allocation_beyond_payment_or_bill_balance_is_refused(ops_user):
    customer = CustomerFactory()
    bill = issued_bill(user=ops_user, customer=customer, lines=["100.00"])
    payment = PaymentFactory(customer=customer, amount=D("500.00"))
    with pytest.raises(ValidationError, match="未收余额"):
        payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("100.01"))])

    small = PaymentFactory(customer=customer, amount=D("10.00"))
    with pytest.raises(ValidationError, match="未核销余额"):
        payment_allocate(user=ops_user, payment=small, allocations=[(bill, D("10.01"))])
    assert not PaymentAllocation.objects.exists()


def test_allocation_to_other_customer_draft_or_negative_is_refused(ops_user):
    customer = CustomerFactory()
    payment = PaymentFactory(customer=customer, amount=D("100"))
    foreign = issued_bill(user=ops_user)
    with pytest.raises(ValidationError, match="不属于"):
        payment_allocate(user=ops_user, payment=payment, allocations=[(foreign, D("1"))])
    draft = BillFactory(customer=customer, lines=["10"])
    with pytest.raises(ValidationError, match="不能核销"):
        payment_allocate(user=ops_user, payment=payment, allocations=[(draft, D("1"))])
    bill = issued_bill(user=ops_user, customer=customer, period=dt.date(2025, 9, 1))
    with pytest.raises(ValidationError, match="负数"):
        payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("-1"))])
    with pytest.raises(ValidationError, match="至少"):
        payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("0"))])


def test_database_refuses_over_allocation_even_without_the_service(ops_user):
    customer = CustomerFactory()
    bill = issued_bill(user=ops_user, customer=customer, lines=["100.00"])
    payment = PaymentFactory(customer=customer, amount=D("50.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(allocated=D("50.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Bill.objects.filter(pk=bill.pk).update(amount_paid=D("100.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Bill.objects.filter(pk=bill.pk).update(amount_paid=D("-0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentAllocation.objects.create(payment=payment, bill=bill, amount=D("-1"))


def test_oldest_first_across_several_bills_leaves_remainder_as_credit(ops_user):
    customer = CustomerFactory()
    sep = issued_bill(
        user=ops_user,
        customer=customer,
        period=dt.date(2025, 9, 1),
        lines=["40"],
        due_date=dt.date(2025, 10, 31),
    )
    aug = issued_bill(
        user=ops_user,
        customer=customer,
        period=dt.date(2025, 8, 1),
        lines=["30"],
        due_date=dt.date(2025, 9, 30),
    )
    oct_ = issued_bill(
        user=ops_user,
        customer=customer,
        period=dt.date(2025, 10, 1),
        lines=["50"],
        due_date=dt.date(2025, 11, 30),
    )
    payment = PaymentFactory(customer=customer, amount=D("200.00"))

    allocations = payment_allocate_oldest_first(user=ops_user, payment=payment)

    assert [(a.bill_id, a.amount) for a in allocations] == [
        (aug.pk, D("30")),
        (sep.pk, D("40")),
        (oct_.pk, D("50")),
    ]
    payment.refresh_from_db()
    assert payment.unallocated == D("80.00")
    assert customer_credit(customer) == D("80.00")

    # the credit pays a later bill
    nov = issued_bill(user=ops_user, customer=customer, period=dt.date(2025, 11, 1), lines=["100"])
    (later,) = payment_allocate_oldest_first(user=ops_user, payment=payment)
    assert later.bill_id == nov.pk and later.amount == D("80.00")
    nov.refresh_from_db()
    assert nov.status == Bill.Status.PARTIALLY_PAID


def test_oldest_first_stops_when_money_runs_out(ops_user):
    customer = CustomerFactory()
    first = issued_bill(
        user=ops_user,
        customer=customer,
        period=dt.date(2025, 8, 1),
        lines=["30"],
        due_date=dt.date(2025, 9, 1),
    )
    second = issued_bill(
        user=ops_user,
        customer=customer,
        period=dt.date(2025, 9, 1),
        lines=["40"],
        due_date=dt.date(2025, 10, 1),
    )
    payment = PaymentFactory(customer=customer, amount=D("50"))

    payment_allocate_oldest_first(user=ops_user, payment=payment)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Bill.Status.PAID, Bill.Status.PARTIALLY_PAID)
    assert second.amount_paid == D("20")
    assert payment_allocate_oldest_first(user=ops_user, payment=payment) == []


def test_undo_allocation_reopens_bill_and_returns_credit(ops_user):
    customer = CustomerFactory()
    bill = issued_bill(user=ops_user, customer=customer, lines=["100"])
    payment = PaymentFactory(customer=customer, amount=D("100"))
    (allocation,) = payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("100"))])

    with pytest.raises(ValidationError, match="撤销原因"):
        allocation_undo(user=ops_user, allocation=allocation, reason="")
    allocation_undo(user=ops_user, allocation=allocation, reason="核销错账单")

    allocation.refresh_from_db()
    bill.refresh_from_db()
    payment.refresh_from_db()
    assert allocation.undone_by == ops_user and allocation.undo_reason == "核销错账单"
    assert bill.status == Bill.Status.ISSUED and bill.amount_paid == 0
    assert payment.allocated == 0
    entries = LogEntry.objects.get_for_object(allocation)
    assert entries.filter(action=LogEntry.Action.CREATE, actor=ops_user).exists()
    assert any(e.changes.get("undo_reason") == ["", "核销错账单"] for e in entries)
    with pytest.raises(ValidationError, match="已撤销"):
        allocation_undo(user=ops_user, allocation=allocation, reason="again")


def test_reversed_bill_cannot_take_money(ops_user):
    bill = issued_bill(user=ops_user)
    note = bill_reverse(user=ops_user, bill=bill, reason="错")
    payment = PaymentFactory(customer=bill.customer, amount=D("100"))
    for target in (bill, note):
        with pytest.raises(ValidationError, match="不能核销"):
            payment_allocate(user=ops_user, payment=payment, allocations=[(target, D("1"))])


# --- concurrency ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_tabs_cannot_over_allocate_on_postgres(ops_user):
    """Two allocations of the same payment race; the row lock makes the second see the first."""
    customer = CustomerFactory()
    bill_a = issued_bill(
        user=ops_user, customer=customer, period=dt.date(2025, 9, 1), lines=["100"]
    )
    bill_b = issued_bill(
        user=ops_user, customer=customer, period=dt.date(2025, 10, 1), lines=["100"]
    )
    payment = PaymentFactory(customer=customer, amount=D("100"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def tab(bill):
        try:
            barrier.wait(timeout=5)
            payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("80"))])
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(b,)) for b in (bill_a, bill_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)

    assert sorted(outcomes) == ["ok", "refused"]
    payment.refresh_from_db()
    assert payment.allocated == D("80")
    assert PaymentAllocation.objects.filter(payment=payment).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_payments_cannot_overpay_one_bill_on_postgres(ops_user):
    """Two payments race for the same bill's balance; the bill row lock lets only one through."""
    customer = CustomerFactory()
    bill = issued_bill(user=ops_user, customer=customer, lines=["100"])
    payments = [PaymentFactory(customer=customer, amount=D("70")) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def tab(payment):
        try:
            barrier.wait(timeout=5)
            payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("70"))])
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(p,)) for p in payments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)

    assert sorted(outcomes) == ["ok", "refused"]
    bill.refresh_from_db()
    assert bill.amount_paid == D("70") and bill.status == Bill.Status.PARTIALLY_PAID


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_form_record_one_payment_on_postgres(ops_user):
    """Three replays race. A replay that finds the bank reference already committed by its
    own first submission (between the key check and the bank-reference check) must get
    that payment back, not a duplicate-reference error."""
    customer = CustomerFactory()
    barrier = threading.Barrier(3)
    results: list[int] = []
    errors: list[BaseException] = []

    def submit():
        try:
            barrier.wait(timeout=30)
            results.append(
                record(ops_user, customer, idempotency_key="same-form", bank_ref="RACE-1").pk
            )
        except BaseException as exc:  # a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert len(results) == 3 and len(set(results)) == 1
    assert Payment.objects.count() == 1


def test_replay_whose_first_submission_just_committed_gets_that_payment(ops_user, monkeypatch):
    """The race above, made deterministic: the key lookup misses (the first submission had
    not committed yet), the bank-reference lookup then finds it."""
    customer = CustomerFactory()
    first = record(ops_user, customer, idempotency_key="form-7", bank_ref="RACE-7")
    real_filter = Payment.objects.filter
    missed = []

    def filter_missing_the_key_once(*args, **kwargs):
        if "idempotency_key" in kwargs and not missed:
            missed.append(True)
            return Payment.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Payment.objects, "filter", filter_missing_the_key_once)
    replay = record(ops_user, customer, idempotency_key="form-7", bank_ref="RACE-7")

    assert missed and replay.pk == first.pk
    with pytest.raises(ValidationError, match="已登记过"):
        record(ops_user, customer, idempotency_key="other-form", bank_ref="RACE-7")


def test_customer_credit_pays_a_later_bill_from_the_bill_side(ops_user):
    customer = CustomerFactory()
    early = PaymentFactory(customer=customer, amount=D("30"), received_on=dt.date(2025, 9, 1))
    late = PaymentFactory(customer=customer, amount=D("50"), received_on=dt.date(2025, 10, 1))
    bill = issued_bill(user=ops_user, customer=customer, lines=["60"])

    created = bill_apply_credit(user=ops_user, bill=bill)

    assert [(a.payment_id, a.amount) for a in created] == [(early.pk, D("30")), (late.pk, D("30"))]
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID
    assert customer_credit(customer) == D("20")
    with pytest.raises(ValidationError, match="没有待收余额"):
        bill_apply_credit(user=ops_user, bill=bill)


def test_admin_cannot_edit_allocations_or_payment_sums(client, admin_user, ops_user):
    customer = CustomerFactory()
    bill = issued_bill(user=ops_user, customer=customer, lines=["100"])
    payment = PaymentFactory(customer=customer, amount=D("50"))
    (allocation,) = payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("50"))])
    client.force_login(admin_user)

    assert client.get("/admin/billing/paymentallocation/add/").status_code == 403
    client.post(f"/admin/billing/paymentallocation/{allocation.pk}/change/", {"amount": "1"})
    page = client.get(f"/admin/billing/payment/{payment.pk}/change/").content.decode()

    allocation.refresh_from_db()
    assert allocation.amount == D("50")
    assert 'name="allocated"' not in page
