"""Browser journey: ops uploads the sample, checks the mapping and preview, confirms, downloads the error workbook."""

from __future__ import annotations

import io

import openpyxl
import pytest

from accounts.roles import Role
from customers.models import Customer
from tests.factories import UserFactory

from .import_files import SAMPLE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_preview_confirm_progress_result_error_download(login_page, tmp_path, wait_for_job):
    ops = UserFactory(role=Role.OPS, username="ops_import", full_name="钱多")
    page = login_page(ops)

    page.goto(f"{page.base_url}/customers/import/")
    page.set_input_files("#id_file", str(SAMPLE))
    page.click("#upload-submit")

    page.wait_for_selector("#import-mapping-form")
    assert page.input_value("#id_col_0") == "company_id"
    page.click("#mapping-submit")

    page.wait_for_selector("#preview-counts", timeout=90_000)  # parses 1,320 rows in the request
    assert page.inner_text("[data-count=created]") == "1318"
    assert page.inner_text("[data-count=invalid]") == "2"
    assert "1063" in page.inner_text("#preview-problems")
    assert Customer.objects.count() == 0
    page.click("#import-confirm")

    wait_for_job(page)
    assert "100%" in page.inner_text("#import-progress")
    assert "新增：1318" in page.inner_text("#import-progress")
    with page.expect_download() as download_info:
        page.click("#error-download")
    path = tmp_path / "errors.xlsx"
    download_info.value.save_as(path)

    rows = list(
        openpyxl.load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True)
    )
    assert rows[0][-1] == "问题"
    assert any(r[0] == 1063 and "重复" in r[-1] for r in rows[1:])
    assert Customer.objects.count() == 1318
