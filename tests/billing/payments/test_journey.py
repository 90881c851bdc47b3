"""Browser journey: ops records a payment and allocates it across two bills."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Bill, Payment
from tests.factories import CustomerFactory, issued_bill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_records_payment_and_allocates_across_two_bills(login_page, ops_user):
    customer = CustomerFactory(name="浏览器测试房产")
    september = issued_bill(
        user=ops_user, customer=customer, period=dt.date(2025, 9, 1), lines=["100.00"]
    )
    october = issued_bill(
        user=ops_user, customer=customer, period=dt.date(2025, 10, 1), lines=["80.00"]
    )

    page = login_page(ops_user)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("text=收款")
    page.click("#payment-create")
    page.fill("#id_customer", str(customer.company_id))
    page.fill("#id_amount", "150.00")
    page.fill("#id_received_on", "2025-11-05")
    page.fill("#id_bank_ref", "BRW-0001")
    page.fill("#id_payer", "浏览器测试房产")
    page.click("#payment-form button[type=submit]")

    page.wait_for_selector("#allocation-form")
    assert page.inner_text("#payment-unallocated") == "¥150.00"
    page.fill(f"#id_bill_{september.pk}", "100")
    page.fill(f"#id_bill_{october.pk}", "50")
    page.click("#allocate-submit")

    page.wait_for_selector("#allocations")
    assert page.inner_text("#payment-unallocated") == "¥0.00"
    assert "已核销 2 张账单" in page.inner_text("#messages")
    september.refresh_from_db()
    october.refresh_from_db()
    assert september.status == Bill.Status.PAID
    assert october.status == Bill.Status.PARTIALLY_PAID
    assert october.balance == Decimal("30.00")
    assert Payment.objects.get().bank_ref == "BRW-0001"

    page.click(f"text={october.number}")
    assert page.inner_text(".bill-status") == "部分收款"
    assert page.inner_text("#bill-balance") == "¥30.00"
