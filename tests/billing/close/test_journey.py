"""Browser journey: ops acknowledges the last anomaly, issues the drafts, closes the month, sees it locked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from billing.bills.services import bills_generate_for_period
from billing.models import Bill, Period
from customers.models import Customer
from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
    UsageRecordFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_closes_the_month(login_page, ops_user):
    # Given October generated: one bill has L priced and X shot without a plan (an anomaly)
    series_l, series_x = DeviceSeriesFactory(code="L"), DeviceSeriesFactory(code="X")
    customer = CustomerFactory(
        company_id=4242, name="杭州金桥地产", billing_enabled=Customer.BillingEnabled.YES
    )
    PricePlanFactory(customer=customer, series=series_l, single_price=D("12.50"))
    UsageRecordFactory(customer=customer, series=series_l, shots=4, shot_date=date(2025, 10, 9))
    UsageRecordFactory(customer=customer, series=series_x, shots=1, shot_date=date(2025, 10, 9))
    bills_generate_for_period(period=date(2025, 10, 1), user=ops_user)

    page = login_page(ops_user)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/billing/close/?period=2025-10")
    assert page.locator("#close-button").is_disabled()
    assert page.get_attribute(".gate[data-gate=anomalies]", "data-green") == "0"

    # When ops acknowledges the anomaly with a reason
    page.fill(".anomaly-bill[data-bill=BILL-202510-4242] input[name=reason]", "X 系列为赠送试拍")
    page.click(".anomaly-bill[data-bill=BILL-202510-4242] button")
    page.wait_for_selector("text=的异常已确认")
    assert page.get_attribute(".gate[data-gate=anomalies]", "data-green") == "1"

    # and issues the month's drafts
    page.goto(f"{page.base_url}/billing/bills/issue-period/")
    page.fill("input[name=period]", "2025-10")
    page.click("button[type=submit]:has-text('出账该月全部草稿')")
    page.wait_for_selector("text=共出账 1 张草稿账单")

    # and closes the month
    page.goto(f"{page.base_url}/billing/close/?period=2025-10")
    assert not page.locator("#close-button").is_disabled()
    page.click("#close-button")

    # Then the month shows as closed and locked
    page.wait_for_selector("text=2025-10 已关账")
    assert "已关账" in page.inner_text("#period-status")
    assert "不能再改动" in page.inner_text("#locked-note")
    assert Period.objects.get(month=date(2025, 10, 1)).is_closed
    assert Bill.objects.get(customer=customer).status == Bill.Status.ISSUED
