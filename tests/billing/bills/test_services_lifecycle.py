"""Bill lifecycle: issue, freeze (service and database), manual lines, overdue, reversal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.bills.selectors import bill_history, bill_number_for, overdue_q
from billing.bills.services import (
    bill_add_manual_line,
    bill_issue,
    bill_reverse,
    bills_issue_for_period,
)
from billing.models import Bill, BillLine
from billing.payments.services import allocation_undo, payment_allocate
from tests.factories import (
    BillFactory,
    BillLineFactory,
    CustomerFactory,
    PaymentFactory,
    issued_bill,
)

pytestmark = pytest.mark.django_db

D = Decimal
OCT = dt.date(2025, 10, 1)


def test_issue_sets_due_date_from_customer_terms_and_total_from_lines(ops_user):
    customer = CustomerFactory(payment_terms_days=45)
    bill = BillFactory(customer=customer, lines=["82.00", "17.50"])

    bill = bill_issue(user=ops_user, bill=bill)

    assert bill.status == Bill.Status.ISSUED
    assert bill.total == D("99.50")
    assert bill.due_date == timezone.localdate(bill.issued_at) + dt.timedelta(days=45)
    assert bill.issued_by == ops_user


def test_issue_defaults_to_thirty_days_and_accepts_explicit_due_date(ops_user):
    bill = bill_issue(user=ops_user, bill=BillFactory(customer=CustomerFactory(), lines=["1"]))
    assert (bill.due_date - timezone.localdate(bill.issued_at)).days == 30

    other = bill_issue(user=ops_user, bill=BillFactory(lines=["1"]), due_date=dt.date(2026, 1, 15))
    assert other.due_date == dt.date(2026, 1, 15)


def test_zero_bill_is_settled_on_issue(ops_user):
    assert bill_issue(user=ops_user, bill=BillFactory(lines=["0.00"])).status == Bill.Status.PAID


def test_issue_twice_is_refused(ops_user):
    bill = issued_bill(user=ops_user)
    with pytest.raises(ValidationError, match="不能重复出账"):
        bill_issue(user=ops_user, bill=bill)


def test_issue_all_drafts_of_a_month(ops_user):
    drafts = [BillFactory(period=OCT, lines=["10"]) for _ in range(3)]
    BillFactory(period=dt.date(2025, 11, 1), lines=["10"])

    issued = bills_issue_for_period(user=ops_user, period=OCT)

    assert {b.pk for b in issued} == {b.pk for b in drafts}
    assert Bill.objects.filter(status=Bill.Status.DRAFT).count() == 1


def test_manual_line_on_draft_updates_total_and_is_audited(ops_user):
    bill = BillFactory(lines=["100.00"])

    line = bill_add_manual_line(
        user=ops_user, bill=bill, amount=D("-20.005"), explanation="", reason="客户投诉补偿"
    )

    bill.refresh_from_db()
    assert line.amount == D("-20.01")
    assert bill.total == D("79.99")
    entry = LogEntry.objects.get_for_object(line).get()
    assert entry.actor == ops_user
    assert "客户投诉补偿" in str(entry.changes)


def test_manual_line_cannot_make_the_bill_negative(ops_user):
    bill = BillFactory(lines=["10.00"])
    with pytest.raises(ValidationError, match="不能为负数"):
        bill_add_manual_line(
            user=ops_user, bill=bill, amount=D("-10.01"), explanation="", reason="x"
        )
    assert bill.lines.count() == 1


def test_manual_line_requires_reason_and_a_draft(ops_user):
    with pytest.raises(ValidationError, match="原因"):
        bill_add_manual_line(
            user=ops_user, bill=BillFactory(), amount=D("5"), explanation="", reason=" "
        )
    bill = issued_bill(user=ops_user)
    with pytest.raises(ValidationError, match="已出账"):
        bill_add_manual_line(user=ops_user, bill=bill, amount=D("5"), explanation="", reason="x")


def test_issued_bill_refuses_amount_change_in_the_database(ops_user):
    bill = issued_bill(user=ops_user, lines=["100.00"])

    with pytest.raises(IntegrityError), transaction.atomic():
        Bill.objects.filter(pk=bill.pk).update(total=D("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        BillLine.objects.filter(bill=bill).update(amount=D("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        BillLineFactory(bill=bill, position=9, amount=D("5.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Bill.objects.filter(pk=bill.pk).update(status=Bill.Status.DRAFT)

    bill.refresh_from_db()
    assert bill.total == D("100.00")


def test_issued_bill_still_takes_status_and_amount_paid_changes(ops_user):
    bill = issued_bill(user=ops_user, lines=["100.00"])

    Bill.objects.filter(pk=bill.pk).update(
        amount_paid=D("10.00"), status=Bill.Status.PARTIALLY_PAID
    )

    bill.refresh_from_db()
    assert bill.amount_paid == D("10.00")


def test_draft_bill_remains_editable_in_the_database(ops_user):
    bill = BillFactory(lines=["100.00"])
    Bill.objects.filter(pk=bill.pk).update(total=D("5.00"))
    BillLine.objects.filter(bill=bill).delete()
    bill.delete()
    assert not Bill.objects.filter(pk=bill.pk).exists()


def test_deleting_an_issued_bill_fails_on_postgres(ops_user):
    bill = issued_bill(user=ops_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Bill.objects.filter(pk=bill.pk).delete()


def test_overdue_is_derived_from_due_date_status_and_balance(ops_user):
    today = dt.date(2025, 12, 1)
    late = issued_bill(user=ops_user, lines=["100"], due_date=dt.date(2025, 11, 30))
    on_time = issued_bill(user=ops_user, lines=["100"], due_date=today)
    settled = issued_bill(user=ops_user, lines=["100"], due_date=dt.date(2025, 11, 1))
    payment = PaymentFactory(customer=settled.customer, amount=D("100"))
    payment_allocate(user=ops_user, payment=payment, allocations=[(settled, D("100"))])
    BillFactory(lines=["100"], due_date=dt.date(2025, 1, 1))  # draft never overdue

    overdue = set(Bill.objects.filter(overdue_q(today)).values_list("pk", flat=True))

    assert overdue == {late.pk}
    late.refresh_from_db()
    assert late.is_overdue  # real today is later than 2025-11-30
    settled.refresh_from_db()
    assert not settled.is_overdue
    assert on_time.pk not in overdue


# --- reversal (冲正) ---------------------------------------------------------------


def test_reverse_creates_credit_note_and_frees_the_period_for_a_corrected_bill(ops_user):
    original = issued_bill(user=ops_user, lines=["120.00"], period=OCT)

    note = bill_reverse(user=ops_user, bill=original, reason="用量重复计入")

    original.refresh_from_db()
    assert original.status == Bill.Status.REVERSED
    assert note.kind == Bill.Kind.CREDIT_NOTE
    assert note.number == f"CN-202510-{original.customer.company_id}-1"
    assert note.total == D("-120.00")
    assert note.status == Bill.Status.ISSUED
    assert note.reverses == original
    assert note.reason == "用量重复计入"
    assert note.lines.get().amount == D("-120.00")

    number = bill_number_for(company_id=original.customer.company_id, period=OCT)
    assert number == f"{original.number}-2"
    corrected = bill_issue(
        user=ops_user,
        bill=BillFactory(customer=original.customer, period=OCT, number=number, lines=["100.00"]),
    )
    assert [b.pk for b in bill_history(corrected)] == [original.pk, note.pk, corrected.pk]


def test_reverse_is_audited_with_reason(ops_user):
    original = issued_bill(user=ops_user)

    note = bill_reverse(user=ops_user, bill=original, reason="价格录错")

    original_changes = [e.changes for e in LogEntry.objects.get_for_object(original)]
    assert any(c.get("status") == ["issued", "reversed"] for c in original_changes)
    created = LogEntry.objects.get_for_object(note).get(action=LogEntry.Action.CREATE)
    assert created.actor == ops_user
    assert "价格录错" in str(created.changes)


def test_reverse_requires_reason(ops_user):
    with pytest.raises(ValidationError, match="冲正原因"):
        bill_reverse(user=ops_user, bill=issued_bill(user=ops_user), reason="")


def test_reverse_refused_while_allocations_are_active_then_allowed_after_undo(ops_user):
    bill = issued_bill(user=ops_user, lines=["100"])
    payment = PaymentFactory(customer=bill.customer, amount=D("60"))
    (allocation,) = payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("60"))])

    with pytest.raises(ValidationError, match="请先撤销"):
        bill_reverse(user=ops_user, bill=bill, reason="错误")

    allocation_undo(user=ops_user, allocation=allocation, reason="为冲正撤销")
    note = bill_reverse(user=ops_user, bill=bill, reason="错误")
    payment.refresh_from_db()
    assert payment.unallocated == D("60")
    assert note.total == D("-100")


def test_second_reversal_numbering_and_double_reverse_refused(ops_user):
    customer = CustomerFactory()
    first = issued_bill(user=ops_user, customer=customer, period=OCT)
    bill_reverse(user=ops_user, bill=first, reason="一")
    with pytest.raises(ValidationError, match="已冲正"):
        bill_reverse(user=ops_user, bill=first, reason="再来")
    second = bill_issue(
        user=ops_user,
        bill=BillFactory(customer=customer, period=OCT, number="BILL-X-2", lines=["50"]),
    )
    note2 = bill_reverse(user=ops_user, bill=second, reason="二")
    assert note2.number.endswith("-2")


def test_draft_and_credit_notes_cannot_be_reversed(ops_user):
    with pytest.raises(ValidationError, match="草稿"):
        bill_reverse(user=ops_user, bill=BillFactory(), reason="x")
    note = bill_reverse(user=ops_user, bill=issued_bill(user=ops_user), reason="x")
    with pytest.raises(ValidationError, match="冲正单"):
        bill_reverse(user=ops_user, bill=note, reason="x")


def test_admin_shows_issued_bill_read_only_and_cannot_change_it(client, admin_user, ops_user):
    bill = issued_bill(user=ops_user, lines=["100.00"])
    client.force_login(admin_user)
    url = f"/admin/billing/bill/{bill.pk}/change/"

    page = client.get(url)
    client.post(url, {"number": bill.number, "total": "1.00", "status": "draft"})

    assert page.status_code == 200
    assert 'name="total"' not in page.content.decode()
    bill.refresh_from_db()
    assert bill.total == D("100.00") and bill.status == Bill.Status.ISSUED
