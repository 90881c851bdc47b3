"""Finance exports of a month: bills with lines (.xlsx/.csv) and payments + settlement (.xlsx)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest
from django.urls import reverse

from billing.models import Bill
from tests.factories import BillFactory, CustomerFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def month_bills():
    customer = CustomerFactory(company_id=31, name='=HYPERLINK("http://x","点我")')
    BillFactory(customer=customer, lines=[D("12.50"), D("7.50")], status=Bill.Status.DRAFT)
    BillFactory(period=date(2025, 9, 1), lines=[D("99")])  # another month: not exported
    PaymentFactory(customer=customer, received_on=date(2025, 10, 3), amount=D("20"))


def test_bill_lines_as_xlsx_keep_amounts_numbers_and_text_literal(client, ops_user, month_bills):
    client.force_login(ops_user)
    response = client.get(reverse("billing:period-export") + "?period=2025-10&fmt=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("账单号", "公司id", "客户") and rows[0][-1] == "未收余额"
    assert len(rows) == 3
    assert rows[1][0] == "BILL-202510-31" and rows[1][8] == 12.5 and rows[1][13] == 20
    assert sheet.cell(2, 3).quotePrefix  # the formula-looking name stays text


def test_bill_lines_as_csv_neutralise_formulas(client, ops_user, month_bills):
    client.force_login(ops_user)
    response = client.get(reverse("billing:period-export") + "?period=2025-10&fmt=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert rows[1][2].startswith("'=HYPERLINK")


def test_payment_summary_and_settlement_status_workbook(client, ops_user, month_bills):
    client.force_login(ops_user)
    response = client.get(reverse("reports:period-finance-export") + "?period=2025-10")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    payments, settlement = book.worksheets
    assert payments.cell(2, 1).value == 31 and payments.cell(2, 4).value == 20
    assert payments.cell(2, 2).quotePrefix
    assert settlement.cell(2, 1).value == "草稿" and settlement.cell(2, 3).value == 20


def test_the_export_is_scoped_to_the_user(client, sales_user, month_bills):
    client.force_login(sales_user)
    response = client.get(reverse("billing:period-export") + "?period=2025-10&fmt=xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows())
    assert len(rows) == 1  # scoped: a sales user sees none of these customers
