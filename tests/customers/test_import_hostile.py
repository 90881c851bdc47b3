"""Hostile and broken files: each gets a clear Chinese message and writes nothing."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.importers import ImportFileError, import_analyse, table_open
from customers.models import Customer
from tests.opcms.hostile_files import zip_bomb

from .import_files import HEADER, lying_dimension, row, standard, xlsx_bytes


def open_and_analyse(data: bytes, filename: str = "f.xlsx"):
    return import_analyse(table_open(io.BytesIO(data), filename=filename))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"hello, this is not a workbook", "f.xlsx", "不是 Excel 工作簿"),
        (b"PK\x03\x04garbage-zip", "f.xlsx", "已损坏"),
        (b"", "f.xlsx", "空的"),
        (xlsx_bytes([]), "f.xlsx", "未找到表头"),
        (xlsx_bytes([["随便", "什么"], [1, 2]]), "f.xlsx", "未找到表头"),
        (xlsx_bytes([HEADER]), "f.xlsx", "没有数据行"),
        (zip_bomb(), "f.xlsx", "压缩炸弹"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le"),
            "f.xlsx",
            "密码保护",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "f.xls", ".xls"),
        (b"\x00\x01\x02binary", "f.csv", "二进制"),
    ],
    ids=[
        "text",
        "broken-zip",
        "empty-file",
        "empty-sheet",
        "no-header",
        "no-rows",
        "zip-bomb",
        "password",
        "legacy-xls",
        "binary-csv",
    ],
)
def test_hostile_file_gets_clear_message(data, filename, message):
    with pytest.raises(ImportFileError, match=message):
        open_and_analyse(data, filename)
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_upload_over_size_limit_is_refused(settings):
    settings.OPCMS_UPLOAD_MAX_BYTES = 1024

    with pytest.raises(ImportFileError, match="上限"):
        open_and_analyse(b"x" * 2048)


@pytest.mark.django_db
def test_too_many_rows_refused(settings):
    settings.OPCMS_UPLOAD_MAX_ROWS = 5

    with pytest.raises(ImportFileError, match="行上限"):
        open_and_analyse(standard(*[row(i, f"公司{i}") for i in range(1, 60)]))


@pytest.mark.django_db
def test_enormous_cell_refused():
    # Excel (and openpyxl) cap cells at 32,767 characters; a CSV does not.
    data = ("公司id,公司名称,备注\n1,甲," + "长" * 40_000 + "\n").encode()

    with pytest.raises(ImportFileError, match="超过 32767 个字符"):
        open_and_analyse(data, "big.csv")


@pytest.mark.django_db
def test_wrong_dimension_tag_does_not_hide_rows():
    plan = open_and_analyse(lying_dimension(50))

    assert len(plan.rows) == 50


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030", "gbk"])
def test_csv_encodings(encoding):
    text = "公司id,公司名称,行业类型\r\n1063,北京链家房产经纪,房产经纪\r\n"

    plan = open_and_analyse(text.encode(encoding), "客户.csv")

    assert plan.rows[0].values["name"] == "北京链家房产经纪"


@pytest.mark.django_db
def test_command_unreadable_file_exits_non_zero_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"not a workbook")

    with pytest.raises(CommandError, match="不是 Excel 工作簿"):
        call_command("import_customers", str(path))
    with pytest.raises(CommandError, match="不存在"):
        call_command("import_customers", str(tmp_path / "missing.xlsx"))
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(xlsx_bytes([HEADER]))
    with pytest.raises(CommandError, match="没有数据行"):
        call_command("import_customers", str(empty))
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_command_prints_summary_and_dry_run_writes_nothing(tmp_path):
    path = tmp_path / "c.xlsx"
    path.write_bytes(standard(row(1, "甲"), row(2, "乙"), row(2, "丙"), row(None, "丁")))
    out = StringIO()

    call_command("import_customers", str(path), "--dry-run", stdout=out, stderr=StringIO())
    assert out.getvalue().strip() == "created=1 updated=0 unchanged=0 invalid=3 warnings=0"
    assert Customer.objects.count() == 0

    out = StringIO()
    call_command("import_customers", str(path), "--series", "N", stdout=out, stderr=StringIO())
    assert out.getvalue().strip() == "created=1 updated=0 unchanged=0 invalid=3 warnings=0"
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_command_turns_workbook_prices_into_price_plans(tmp_path):
    from datetime import date
    from decimal import Decimal

    from billing.models import PricePlan

    path = tmp_path / "c.xlsx"
    path.write_bytes(
        standard(
            row(1, "甲", settlement_method="定价结算", single_price=8, multi_price=0), row(2, "乙")
        )
    )
    out = StringIO()

    call_command(
        "import_customers",
        str(path),
        "--series",
        "X",
        "--valid-from",
        "2026-01-01",
        stdout=out,
        stderr=StringIO(),
    )

    plan = PricePlan.objects.get()
    assert (plan.customer.company_id, plan.series.code) == (1, "X")
    assert plan.single_price == Decimal("8.00")
    assert plan.valid_from == date(2026, 1, 1)
    assert plan.source == PricePlan.Source.IMPORT
