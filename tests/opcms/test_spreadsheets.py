"""The one upload reader: every hostile file is refused before parsing, in Chinese,
by each of the three imports (customers, usage, bank receipts).

"Before parsing" is asserted by what runs (the workbook parser is never called), not by a
wall-clock bound, which a loaded machine misses."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Job
from billing.models import Payment, UsageRecord
from billing.payments.receipts import receipts_preview
from billing.usage.services import read_usage_workbook
from customers.importers import import_analyse, table_open
from customers.models import Customer
from opcms.spreadsheets import SpreadsheetError, spreadsheet_read
from tests.customers.import_files import xlsx_bytes as xlsx
from tests.factories import CustomerFactory, DeviceSeriesFactory

from .hostile_files import encrypted, legacy_xls, without_content_types, zip_bomb

pytestmark = pytest.mark.django_db

CUSTOMER_HEADER = ["公司id", "公司名称"]
USAGE_HEADER = ["公司id", "设备系列", "日期", "楼层数", "拍摄量", "来源单号"]
RECEIPT_HEADER = ["收款日期", "金额", "付款人", "流水号", "公司id"]


def _read_customers(data: bytes, filename: str) -> None:
    import_analyse(table_open(io.BytesIO(data), filename=filename))


def _read_usage(data: bytes, filename: str) -> None:
    read_usage_workbook(io.BytesIO(data), kind="long", series="L", filename=filename)


def _read_receipts(data: bytes, filename: str, user) -> None:
    receipts_preview(content=data, filename=filename, user=user)


HOSTILE = [
    pytest.param(lambda: zip_bomb(7), "f.xlsx", "压缩炸弹", id="zip-bomb-7mb"),
    pytest.param(encrypted, "f.xlsx", "密码保护", id="encrypted"),
    pytest.param(legacy_xls, "f.xls", "旧版 .xls", id="xls-bytes"),
    pytest.param(
        lambda: without_content_types(xlsx([CUSTOMER_HEADER, [1, "甲"]])),
        "f.xlsx",
        "缺少工作簿内容",
        id="no-content-types",
    ),
    pytest.param(lambda: b"PK\x03\x04broken", "f.xlsx", "已损坏", id="broken-zip"),
    pytest.param(lambda: b"", "f.xlsx", "文件是空的", id="empty"),
    pytest.param(lambda: b"%PDF-1.7", "f.pdf", "不是 Excel 工作簿", id="not-a-spreadsheet"),
    pytest.param(lambda: b"a,b\n\x00\x01", "f.csv", "二进制", id="binary-csv"),
    pytest.param(
        lambda: ("公司id,公司名称,备注\n1,甲," + "长" * 40_000 + "\n").encode(),
        "f.csv",
        "超过 32767 个字符",
        id="huge-cell",
    ),
]


@pytest.fixture
def workbook_parses(monkeypatch):
    """The calls that reached python-calamine's workbook parser (each one fails)."""
    import python_calamine

    calls = []

    def parse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("a hostile file reached the parser")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", parse)
    return calls


@pytest.mark.parametrize(("build", "filename", "message"), HOSTILE)
def test_reader_refuses_hostile_file_before_parsing(build, filename, message, workbook_parses):
    data = build()

    with pytest.raises(SpreadsheetError, match=message):
        list(spreadsheet_read(data, filename=filename).sheets())

    assert workbook_parses == []


@pytest.mark.parametrize(("build", "filename", "message"), HOSTILE)
def test_each_import_refuses_hostile_file_before_parsing(
    build, filename, message, ops_user, workbook_parses
):
    data = build()
    for read in (
        _read_customers,
        _read_usage,
        lambda d, f: _read_receipts(d, f, ops_user),
    ):
        with pytest.raises((SpreadsheetError, ValidationError), match=message):
            read(data, filename)
        assert workbook_parses == [], read
    assert Customer.objects.count() == UsageRecord.objects.count() == 0


def test_over_size_limit_refused_by_every_import(settings, ops_user):
    settings.OPCMS_UPLOAD_MAX_BYTES = 1024
    data = ("收款日期,金额,付款人,流水号\n" + "2025-11-05,60,甲,R1\n" * 200).encode()

    for read in (_read_customers, _read_usage, lambda d, f: _read_receipts(d, f, ops_user)):
        with pytest.raises((SpreadsheetError, ValidationError), match="文件超过 1 KB 上限"):
            read(data, "big.csv")
        with pytest.raises((SpreadsheetError, ValidationError), match="上限"):
            read(xlsx([[f"公司{i}" * 20] for i in range(200)]), "big.xlsx")


def test_too_many_rows_refused_by_every_import(settings, ops_user):
    settings.OPCMS_UPLOAD_MAX_ROWS = 5
    rows = [[i, f"公司{i}", "2025-10-16"] for i in range(1, 20)]

    for data, filename in ((xlsx([CUSTOMER_HEADER, *rows]), "f.xlsx"), (b"a\n" * 20, "f.csv")):
        for read in (_read_customers, _read_usage, lambda d, f: _read_receipts(d, f, ops_user)):
            with pytest.raises((SpreadsheetError, ValidationError), match="行上限"):
                read(data, filename)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_read_in_utf8_bom_and_gb18030_by_every_import(encoding, ops_user):
    DeviceSeriesFactory(code="L")
    CustomerFactory(company_id=15, name="丙公司")
    customers = "公司id,公司名称\n1063,北京链家房产经纪\n".encode(encoding)
    usage = "公司id,设备系列,日期,楼层数,拍摄量,来源单号\n15,L,2025-10-16,1,1,SO1\n".encode(
        encoding
    )
    receipts = "收款日期,金额,付款人,流水号,公司id\n2025-11-05,60,丙公司,R1,15\n".encode(encoding)

    plan = import_analyse(table_open(io.BytesIO(customers), filename="c.csv"))
    sheet = read_usage_workbook(usage, kind="long", series="L", filename="u.csv")
    preview = receipts_preview(content=receipts, filename="r.csv", user=ops_user)

    assert plan.rows[0].values["name"] == "北京链家房产经纪"
    assert sheet.records[0]["shot_date"] == "2025-10-16"
    assert (preview.rows[0].payer, preview.rows[0].errors) == ("丙公司", [])


def test_xlsx_cells_come_back_as_openpyxl_gave_them():
    data = xlsx(
        [["id", "名称", "日期", "空", "小数"], [1063, "甲", date(2025, 1, 2), None, 1.5]],
        title="客户",
    )

    sheet = next(spreadsheet_read(data, filename="f.xlsx").sheets())

    assert sheet.title == "客户"
    assert sheet.rows[1] == (1063, "甲", date(2025, 1, 2), "", 1.5)


@pytest.mark.parametrize(
    ("amount", "company_id", "message"),
    [
        ("NaN", "15", "金额“NaN”不是数字"),
        ("Infinity", "15", "金额“Infinity”不是数字"),
        ("-Infinity", "15", "金额“-Infinity”不是数字"),
        ("1e30", "15", "金额“1e30”超出范围"),
        ("60", "NaN", "“NaN”不是有效的公司id"),
        ("60", "Infinity", "“Infinity”不是有效的公司id"),
        ("60", "1e30", "“1e30”不是有效的公司id"),
        ("60", "1.5", "“1.5”不是有效的公司id"),
    ],
)
def test_receipts_non_finite_or_huge_numbers_are_row_errors(ops_user, amount, company_id, message):
    CustomerFactory(company_id=15, name="丙公司")
    data = f"收款日期,金额,付款人,流水号,公司id\n2025-11-05,{amount},丙公司,R1,{company_id}\n"

    preview = receipts_preview(content=data.encode(), filename="r.csv", user=ops_user)

    assert any(message in e for e in preview.rows[0].errors), preview.rows[0].errors


def test_receipts_huge_numbers_in_a_workbook_are_row_errors(ops_user):
    CustomerFactory(company_id=15, name="丙公司")
    data = xlsx([RECEIPT_HEADER, ["2025-11-05", 1e30, "丙公司", "R1", 1e30]])

    preview = receipts_preview(content=data, filename="r.xlsx", user=ops_user)

    assert len(preview.rows[0].errors) == 2


def test_receipts_upload_over_size_limit_is_refused_before_reading(client, ops_user, settings):
    settings.OPCMS_UPLOAD_MAX_BYTES = 1024
    client.force_login(ops_user)
    upload = SimpleUploadedFile("bank.csv", b"2025-11-05,60,x,R1\n" * 200)

    response = client.post(reverse("billing:receipt-import"), {"file": upload})

    assert response.status_code == 200
    assert "文件超过 1 KB 上限" in response.text
    assert Job.objects.count() == Payment.objects.count() == 0


@pytest.mark.parametrize(
    ("route", "extra"),
    [
        ("customer_import:start", {}),
        ("billing:usage-import", {"kind": "long", "series": "L"}),
        ("billing:receipt-import", {}),
    ],
)
def test_zip_bomb_upload_answers_a_chinese_message_unparsed(
    client, ops_user, route, extra, monkeypatch
):
    # Refused from the archive's declared sizes: the parser never inflates the bomb
    # (asserted by what runs, not by a timing a loaded machine could miss).
    import python_calamine

    def parsed(*args, **kwargs):
        raise AssertionError("the bomb reached the parser")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", parsed)
    DeviceSeriesFactory(code="L")
    client.force_login(ops_user)
    upload = SimpleUploadedFile("bomb.xlsx", zip_bomb(7))

    response = client.post(reverse(route), {"file": upload, **extra}, follow=True)

    assert response.status_code == 200
    assert "压缩炸弹" in response.text


def test_usage_upload_parses_once_and_preview_reads_the_job(client, ops_user, monkeypatch):
    DeviceSeriesFactory(code="L")
    CustomerFactory(company_id=15)
    client.force_login(ops_user)
    upload = SimpleUploadedFile(
        "u.xlsx", xlsx([USAGE_HEADER, [15, "L", "2025-10-16", 1, 1, "SO1"]])
    )
    response = client.post(
        reverse("billing:usage-import"), {"file": upload, "kind": "long", "series": "L"}
    )
    from billing.usage import services as usage

    def no_second_parse(*args, **kwargs):
        raise AssertionError("the preview parsed the file again")

    monkeypatch.setattr(usage, "spreadsheet_read", no_second_parse)

    preview = client.get(response["Location"])
    committed = client.post(response["Location"])

    assert "将新增 <strong>1</strong> 条" in preview.text
    assert committed.status_code == 200
    assert UsageRecord.objects.count() == 1


def test_receipts_refuse_a_30_mb_csv_by_the_size_limit_without_parsing(ops_user, monkeypatch):
    from opcms import spreadsheets

    def parse(*args, **kwargs):
        raise AssertionError("the over-size file reached the CSV parser")

    monkeypatch.setattr(spreadsheets, "_csv_rows", parse)
    data = b"2025-11-05,60,x,R1\n" * (30 * 1024 * 1024 // 19)

    with pytest.raises(ValidationError, match="文件超过 20 MB 上限"):
        receipts_preview(content=data, filename="bank.csv", user=ops_user)
