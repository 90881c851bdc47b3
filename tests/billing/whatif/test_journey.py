"""Browser journey: a manager runs a what-if, sorts by the largest increase, exports it."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
    UsageRecordFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_runs_a_whatif_sorts_by_largest_increase_and_exports(login_page, manager_user):
    series = DeviceSeriesFactory(code="L")
    for company_id, price in ((7001, "12"), (7002, "6"), (7003, "9")):
        customer = CustomerFactory(company_id=company_id, name=f"试算客户{company_id}")
        PricePlanFactory(customer=customer, series=series, single_price=D(price))
        UsageRecordFactory(
            customer=customer, series=series, shot_date=dt.date(2025, 10, 8), shots=10
        )

    page = login_page(manager_user)
    page.click("text=管理")
    page.click("text=价格试算")
    page.select_option("#id_series", value="L")
    page.fill("#id_month_from", "2025-10")
    page.fill("#id_month_to", "2025-10")
    page.select_option("#id_plan-kind", value="per_shoot")
    page.fill("#id_plan-single_price", "10")
    page.click("#whatif-run")

    assert "候选方案 ¥300.00" in page.inner_text("#whatif-totals")
    page.click("#whatif-rows th >> text=差额")
    page.click("#whatif-rows th >> text=差额")
    first = page.locator("#whatif-rows tbody tr").first.inner_text()
    assert "7002" in first and "¥40.00" in first  # ¥6 → ¥10 on 10 shoots: the largest rise
    assert page.locator("#whatif-chart canvas").count() == 1

    with page.expect_download() as download:
        page.click("#whatif-export")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    assert [sheet.cell(3, 1).value, sheet.cell(3, 6).value] == ["7002", 40]
