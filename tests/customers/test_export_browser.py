"""Browser journey: a sales user filters the customer list, ticks rows and exports the selection."""

from __future__ import annotations

import io

import openpyxl
import pytest

from accounts.roles import Role
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_list_filter_tick_rows_export_selection_and_filter(login_page, tmp_path):
    sales = UserFactory(role=Role.SALES, username="sales_export", full_name="王珂")
    for n, level in enumerate(["A", "A", "A", "B"], start=1):
        CustomerFactory(company_id=n, name=f"杭州{n}号", level=level, sales_owner=sales)
    CustomerFactory(company_id=9, name="别人的杭州", level="A")  # outside the sales scope
    page = login_page(sales)

    page.goto(f"{page.base_url}/customers/?level=A")
    assert page.locator("#import-link").count() == 0  # sales may not import
    page.check(".row-check >> nth=0")
    page.check(".row-check >> nth=1")
    page.click("#export-menu button")
    page.click("#export-selection")

    page.wait_for_selector("#export-form")
    assert "已选 2 个客户" in page.inner_text("#export-counts")
    assert "当前筛选结果：3 个客户" in page.inner_text("#export-counts")
    assert page.is_checked("input[name=scope][value=selection]")
    with page.expect_download() as download_info:
        page.click("#export-submit")
    path = tmp_path / "selection.xlsx"
    download_info.value.save_as(path)
    rows = list(
        openpyxl.load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True)
    )
    assert len(rows) == 3  # header + the two ticked customers

    page.check("input[name=scope][value=filter]")
    with page.expect_download() as download_info:
        page.click("#export-submit")
    path = tmp_path / "filter.xlsx"
    download_info.value.save_as(path)
    rows = list(
        openpyxl.load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True)
    )
    assert sorted(r[1] for r in rows[1:]) == ["杭州1号", "杭州2号", "杭州3号"]
