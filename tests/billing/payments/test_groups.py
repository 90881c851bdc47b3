"""Head-office payments (集团/总部): allocation across members, its invariants, statement, scope."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Bill, Payment, PaymentAllocation
from billing.payments.services import payment_allocate, payment_allocate_oldest_first
from billing.statements.documents import group_statement_build
from customers.models import Customer
from tests.factories import CustomerFactory, CustomerGroupFactory, PaymentFactory, issued_bill

pytestmark = pytest.mark.django_db
D = Decimal


def _group(head, *members):
    group = CustomerGroupFactory(head_office=head)
    Customer.objects.filter(pk__in=[head.pk, *(m.pk for m in members)]).update(group=group)
    return group


def _invariants_hold():
    for payment in Payment.objects.all():
        active = sum((a.amount for a in payment.allocations.all() if a.undone_at is None), D("0"))
        assert payment.allocated == active <= payment.amount
    for bill in Bill.objects.filter(kind=Bill.Kind.BILL):
        active = sum((a.amount for a in bill.allocations.all() if a.undone_at is None), D("0"))
        assert bill.amount_paid == active <= bill.total


def test_head_office_payment_goes_oldest_first_across_the_group(ops_user):
    # given a head office and two stores with bills of September and October
    head, store_a, store_b = CustomerFactory(), CustomerFactory(), CustomerFactory()
    _group(head, store_a, store_b)
    oct_a = issued_bill(user=ops_user, customer=store_a, period=dt.date(2025, 10, 1), lines=["300"])
    sep_b = issued_bill(user=ops_user, customer=store_b, period=dt.date(2025, 9, 1), lines=["200"])
    outsider = issued_bill(
        user=ops_user, customer=CustomerFactory(), period=dt.date(2025, 8, 1), lines=["50"]
    )
    payment = PaymentFactory(customer=head, amount=D("400"))

    # when the head office's transfer is allocated oldest first
    payment_allocate_oldest_first(user=ops_user, payment=payment)

    # then September's store bill is paid in full, October's in part, the outsider untouched
    for bill in (oct_a, sep_b, outsider):
        bill.refresh_from_db()
    assert (sep_b.amount_paid, sep_b.status) == (D("200"), Bill.Status.PAID)
    assert (oct_a.amount_paid, oct_a.status) == (D("200"), Bill.Status.PARTIALLY_PAID)
    assert outsider.amount_paid == 0
    _invariants_hold()


def test_a_head_office_payment_cannot_pay_a_bill_outside_its_group(ops_user):
    head, store = CustomerFactory(), CustomerFactory()
    _group(head, store)
    stranger_bill = issued_bill(user=ops_user, customer=CustomerFactory(), lines=["100"])
    member_payment = PaymentFactory(customer=store, amount=D("100"))
    head_bill = issued_bill(user=ops_user, customer=head, lines=["100"])

    with pytest.raises(ValidationError, match="不属于该收款的客户"):
        payment_allocate(
            user=ops_user,
            payment=PaymentFactory(customer=head, amount=D("100")),
            allocations=[(stranger_bill, D("10"))],
        )
    # a member's own payment does not reach the head office's (or a sibling's) bills
    with pytest.raises(ValidationError, match="不属于该收款的客户"):
        payment_allocate(user=ops_user, payment=member_payment, allocations=[(head_bill, D("10"))])
    assert PaymentAllocation.objects.count() == 0


def test_by_hand_over_a_balance_or_the_payment_is_refused(ops_user):
    head, store = CustomerFactory(), CustomerFactory()
    _group(head, store)
    bill = issued_bill(user=ops_user, customer=store, lines=["100"])
    payment = PaymentFactory(customer=head, amount=D("150"))

    with pytest.raises(ValidationError, match="超过未收余额"):
        payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("120"))])
    small = PaymentFactory(customer=head, amount=D("30"))
    with pytest.raises(ValidationError, match="超过收款未核销余额"):
        payment_allocate(user=ops_user, payment=small, allocations=[(bill, D("40"))])
    _invariants_hold()


@pytest.mark.django_db(transaction=True)
def test_two_head_office_payments_race_for_one_member_bill_on_postgres(ops_user):
    head, store = CustomerFactory(), CustomerFactory()
    _group(head, store)
    bill = issued_bill(user=ops_user, customer=store, lines=["100"])
    payments = [PaymentFactory(customer=head, amount=D("70")) for _ in range(2)]
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
    assert bill.amount_paid == D("70")
    _invariants_hold()


@pytest.mark.django_db(transaction=True)
def test_one_head_office_payment_spent_twice_at_once_on_postgres(ops_user):
    head, store_a, store_b = CustomerFactory(), CustomerFactory(), CustomerFactory()
    _group(head, store_a, store_b)
    bills = [
        issued_bill(user=ops_user, customer=store_a, lines=["100"]),
        issued_bill(user=ops_user, customer=store_b, lines=["100"]),
    ]
    payment = PaymentFactory(customer=head, amount=D("100"))
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

    threads = [threading.Thread(target=tab, args=(b,)) for b in bills]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)

    assert sorted(outcomes) == ["ok", "refused"]
    payment.refresh_from_db()
    assert payment.allocated == D("80")
    _invariants_hold()


amounts = st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    bills=st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 12), amounts),
        max_size=8,
        unique_by=lambda t: t[:2],
    ),
    payments=st.lists(
        st.tuples(st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), amounts, st.booleans()),
        max_size=5,
    ),
    window=st.tuples(st.integers(1, 12), st.integers(1, 12)).map(sorted),
)
def test_the_group_statement_adds_up(ops_user, bills, payments, window):
    with transaction.atomic():
        head, store_a, store_b = CustomerFactory(), CustomerFactory(), CustomerFactory()
        group = _group(head, store_a, store_b)
        members = [head, store_a, store_b]
        ledger: list[tuple[dt.date, Decimal]] = []  # independent: (date, +owed / −received)
        for member, month, amount in bills:
            period = dt.date(2025, month, 1)
            issued_bill(user=ops_user, customer=members[member], period=period, lines=[amount])
            ledger.append((period, amount))
        for received_on, amount, allocate in payments:
            payment = PaymentFactory(customer=head, amount=amount, received_on=received_on)
            ledger.append((received_on, -amount))
            if allocate:  # allocations move money between bills, never the balance
                payment_allocate_oldest_first(user=ops_user, payment=payment)
        date_from = dt.date(2025, window[0], 1)
        date_to = dt.date(2025, window[1], 28)

        result = group_statement_build(
            user=ops_user, group=group, date_from=date_from, date_to=date_to
        )

        assert result.opening + result.billed - result.credited - result.paid == result.closing
        assert result.opening == sum((a for d, a in ledger if d < date_from), D("0"))
        assert result.closing == sum((a for d, a in ledger if d <= date_to), D("0"))
        assert len(result.members) == 3
        _invariants_hold()
        transaction.set_rollback(True)


def test_a_salesperson_sees_own_members_and_totals_over_them_only(ops_user, sales_user):
    # given a group of three, one store owned by the salesperson
    head, own, other = CustomerFactory(), CustomerFactory(sales_owner=sales_user), CustomerFactory()
    group = _group(head, own, other)
    issued_bill(user=ops_user, customer=own, lines=["100"])
    issued_bill(user=ops_user, customer=other, lines=["900"])
    period = (dt.date(2025, 10, 1), dt.date(2025, 10, 31))

    mine = group_statement_build(
        user=sales_user, group=group, date_from=period[0], date_to=period[1]
    )
    everything = group_statement_build(
        user=ops_user, group=group, date_from=period[0], date_to=period[1]
    )

    assert [s.customer.pk for s in mine.members] == [own.pk]
    assert mine.billed == D("100") and mine.closing == D("100")
    assert everything.billed == D("1000")
