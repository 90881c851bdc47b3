"""Usage pages: entry by hand, permissions, the sheet upload with preview and errors."""

from __future__ import annotations

from io import BytesIO

import openpyxl
import pytest
from django.urls import reverse

from billing.models import UsageRecord
from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def series_l():
    return DeviceSeriesFactory(code="L")


def workbook(rows: list[list], title="拍摄明细") -> BytesIO:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "usage.xlsx"
    return buffer


def test_manual_usage_entry(client, ops_user, series_l):
    customer = CustomerFactory()
    client.force_login(ops_user)
    url = reverse("billing:customer-usage", args=[customer.pk])
    data = {"series": series_l.pk, "shot_date": "2025-10-05", "floors": 2, "shots": 3}
    assert client.post(url, {**data, "source_ref": "M1"}).status_code == 302
    again = client.post(url, {**data, "source_ref": "M1"})
    assert "已录入过" in again.text
    record = UsageRecord.objects.get()
    assert (record.shots, record.floors, record.source) == (3, 2, "manual")


def test_sales_cannot_enter_usage(client, sales_user, series_l):
    customer = CustomerFactory(sales_owner=sales_user)
    client.force_login(sales_user)
    response = client.post(
        reverse("billing:customer-usage", args=[customer.pk]),
        {"series": series_l.pk, "shot_date": "2025-10-05", "floors": 1, "shots": 1},
    )
    assert response.status_code == 403


def test_usage_upload_preview_then_commit(client, ops_user, series_l):
    CustomerFactory(company_id=15)
    client.force_login(ops_user)
    upload = workbook(
        [
            ["公司id", "设备系列", "日期", "楼层数", "拍摄量", "来源单号"],
            [15, "L", "2025-10-16", 1, 1, "SO1"],
            [15, "L", "2025-10-17", 2, 3, "SO2"],
        ]
    )
    response = client.post(
        reverse("billing:usage-import"), {"file": upload, "kind": "long", "series": "L"}
    )
    preview_url = response["Location"]
    preview = client.get(preview_url)
    assert "将新增 <strong>2</strong> 条" in preview.text
    assert UsageRecord.objects.count() == 0
    client.post(preview_url)
    assert UsageRecord.objects.count() == 2


def test_usage_upload_with_errors_imports_nothing(client, ops_user, series_l):
    CustomerFactory(company_id=15)
    client.force_login(ops_user)
    upload = workbook(
        [
            ["公司id", "设备系列", "日期", "楼层数", "拍摄量", "来源单号"],
            [15, "L", "2025-10-16", 1, 1, "SO1"],
            [99, "L", "2025-13-01", 0, 1, "SO2"],
        ]
    )
    response = client.post(
        reverse("billing:usage-import"), {"file": upload, "kind": "long", "series": "L"}
    )
    page = client.post(response["Location"])
    assert "拍摄日期“2025-13-01”必须是日期" in page.text
    assert UsageRecord.objects.count() == 0
    job = page.context["job"]
    assert job.error_file
    assert (job.status, job.message) == (
        "failed",
        "有 2 处错误，未导入任何数据，请下载错误明细修改后重新上传",
    )
