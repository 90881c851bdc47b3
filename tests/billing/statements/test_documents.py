"""Customer statements: balances add up over random histories, exports, and what counts when."""

from __future__ import annotations

import calendar
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from billing.bills.services import bill_reverse
from billing.models import Bill
from billing.payments.services import payment_allocate
from billing.statements.documents import statement_build
from tests.factories import BillFactory, CustomerFactory, PaymentFactory, issued_bill

pytestmark = pytest.mark.django_db

D = Decimal
MONTHS = [dt.date(2025, m, 1) for m in range(1, 13)]

amounts = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)
events = st.lists(
    st.one_of(
        st.tuples(st.just("bill"), st.sampled_from(MONTHS), amounts, st.booleans()),
        st.tuples(
            st.just("payment"),
            st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2025, 12, 31)),
            amounts,
            st.booleans(),
        ),
    ),
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=events,
    window=st.tuples(st.integers(0, 11), st.integers(0, 11)).map(sorted),
)
def test_opening_plus_billed_minus_credited_minus_paid_is_closing(ops_user, history, window):
    with transaction.atomic():
        customer = CustomerFactory()
        documents: list[tuple[dt.date, Decimal]] = []  # independent ledger: (date, +owed/−received)
        used_months = set()
        for kind, on, amount, flag in history:
            if kind == "bill":
                if on in used_months:
                    continue
                used_months.add(on)
                bill = issued_bill(user=ops_user, customer=customer, period=on, lines=[amount])
                documents.append((on, amount))
                if flag:  # reverse it: the credit note is dated on its issue day
                    note = bill_reverse(user=ops_user, bill=bill, reason="测试冲正")
                    Bill.objects.filter(pk=note.pk).update(
                        issued_at=dt.datetime(2025, on.month, 20, 4, tzinfo=dt.UTC)
                    )
                    documents.append((dt.date(2025, on.month, 20), -amount))
            else:
                payment = PaymentFactory(customer=customer, amount=amount, received_on=on)
                documents.append((on, -amount))
                open_bill = Bill.objects.filter(
                    customer=customer, kind=Bill.Kind.BILL, status=Bill.Status.ISSUED
                ).first()
                if flag and open_bill:  # allocations must not change any balance
                    payment_allocate(
                        user=ops_user,
                        payment=payment,
                        allocations=[(open_bill, min(amount, open_bill.balance))],
                    )
        date_from = MONTHS[window[0]]
        last = MONTHS[window[1]]
        date_to = last.replace(day=calendar.monthrange(last.year, last.month)[1])

        result = statement_build(customer=customer, date_from=date_from, date_to=date_to)

        assert result.opening + result.billed - result.credited - result.paid == result.closing
        assert result.opening == sum((a for d, a in documents if d < date_from), D("0"))
        assert result.closing == sum((a for d, a in documents if d <= date_to), D("0"))
        if result.entries:
            assert result.entries[-1].balance == result.closing
        transaction.set_rollback(True)


def test_statement_of_a_month_with_bill_reversal_and_payment(ops_user):
    customer = CustomerFactory(name="乙公司")
    sep = issued_bill(user=ops_user, customer=customer, period=dt.date(2025, 9, 1), lines=["100"])
    oct_ = issued_bill(user=ops_user, customer=customer, period=dt.date(2025, 10, 1), lines=["200"])
    PaymentFactory(customer=customer, amount=D("100"), received_on=dt.date(2025, 9, 30))
    PaymentFactory(customer=customer, amount=D("50"), received_on=dt.date(2025, 10, 15))
    note = bill_reverse(user=ops_user, bill=oct_, reason="重复计费")
    Bill.objects.filter(pk=note.pk).update(issued_at=dt.datetime(2025, 10, 20, 4, tzinfo=dt.UTC))
    BillFactory(
        customer=customer, period=dt.date(2025, 10, 1), number="DRAFT-X", lines=["999"]
    )  # drafts excluded

    result = statement_build(
        customer=customer, date_from=dt.date(2025, 10, 1), date_to=dt.date(2025, 10, 31)
    )

    assert sep.total == D("100")
    assert (result.opening, result.billed, result.credited, result.paid, result.closing) == (
        D("0"),
        D("200"),
        D("200"),
        D("50"),
        D("-50"),
    )
    assert [e.kind_label for e in result.entries] == ["账单", "收款", "冲正单"]


def test_statement_xlsx_has_amounts_as_numbers(client, ops_user):
    customer = CustomerFactory()
    issued_bill(user=ops_user, customer=customer, lines=["1234.50"])
    client.force_login(ops_user)

    response = client.get(
        reverse("billing:statement-xlsx"),
        {"customer": customer.company_id, "start": "2025-10", "end": "2025-10"},
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    summary = {row[0]: row[1] for row in rows if row[0] in ("期初余额", "本期应收", "期末余额")}
    assert summary == {"期初余额": 0, "本期应收": 1234.5, "期末余额": 1234.5}
    (bill_row,) = [row for row in rows if row[1] == "账单"]
    number = f"BILL-202510-{customer.company_id}"
    assert (bill_row[2], bill_row[4], bill_row[6]) == (number, 1234.5, 1234.5)
    assert all(isinstance(v, float | int) for v in (bill_row[4], bill_row[6]))


def test_statement_pdf_renders_with_chinese(client, ops_user, sales_user):
    customer = CustomerFactory(name="丙房产经纪有限公司", sales_owner=sales_user)
    issued_bill(user=ops_user, customer=customer, lines=["88.00"])
    client.force_login(sales_user)

    response = client.get(
        reverse("billing:statement-pdf"),
        {"customer": customer.company_id, "start": "2025-10", "end": "2025-10"},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_statement_page_shows_summary(client, ops_user):
    customer = CustomerFactory()
    issued_bill(user=ops_user, customer=customer, lines=["10.00"])
    client.force_login(ops_user)
    html = client.get(
        reverse("billing:statement"),
        {"customer": customer.company_id, "start": "2025-10", "end": "2025-10"},
    ).content.decode()
    assert "¥10.00" in html and "期末余额" in html


def test_statement_end_before_start_is_a_form_error(client, ops_user):
    customer = CustomerFactory()
    client.force_login(ops_user)
    html = client.get(
        reverse("billing:statement"),
        {"customer": customer.company_id, "start": "2025-10", "end": "2025-09"},
    ).content.decode()
    assert "截止月份不能早于起始月份" in html
