"""Browser journey: ops generates the month, finds a customer without usage on the close page, adds it, regenerates."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from billing.models import Bill
from customers.models import Customer
from tests.factories import CustomerFactory, DeviceSeriesFactory, PricePlanFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_fixes_a_missing_usage_month(login_page, ops_user, wait_for_job):
    series = DeviceSeriesFactory(code="L")
    customer = CustomerFactory(
        company_id=4242,
        name="杭州金桥地产代理有限公司",
        billing_enabled=Customer.BillingEnabled.YES,
    )
    PricePlanFactory(customer=customer, series=series, single_price=D("12.50"))

    page = login_page(ops_user)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/billing/bills/?period=2025-10")
    page.fill("#generate-form input[name=period]", "2025-10")
    page.click("#generate-form button[type=submit]")
    wait_for_job(page)
    # No usage and no fixed fee: no ¥0.00 bill; the close page lists the month as 本月无用量.
    assert not Bill.objects.filter(customer=customer).exists()
    page.goto(f"{page.base_url}/billing/close/?period=2025-10")
    assert "杭州金桥地产代理有限公司" in page.inner_text("#no-usage + form")
    page.click("#no-usage + form >> text=补录用量")
    page.select_option("#id_series", label="L")
    page.fill("#id_shot_date", "2025-10-18")
    page.fill("#id_floors", "1")
    page.fill("#id_shots", "4")
    page.fill("#id_source_ref", "SO-4242-1")
    page.click("#usage-form button[type=submit]")
    page.wait_for_selector("text=用量已录入")
    assert "SO-4242-1" in page.inner_text("#usage-table")

    page.goto(f"{page.base_url}/billing/bills/?period=2025-10")
    page.fill("#generate-form input[name=period]", "2025-10")
    page.click("#generate-form button[type=submit]")
    wait_for_job(page)
    page.click("text=查看结果")
    page.click("text=BILL-202510-4242")
    assert "单层 4 次：4×¥12.50 = ¥50.00" in page.inner_text("#bill-lines")
    assert page.inner_text("#bill-total") == "¥50.00"
    assert page.locator("#anomalies").count() == 0
    assert Bill.objects.get(customer=customer).total == D("50.00")
