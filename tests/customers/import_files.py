"""Builders of workbooks and CSV files for the import tests (plain bytes, no database)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl

from customers.importers import COLUMNS

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "customers_sample.xlsx"
HEADER = [c.label for c in COLUMNS]


def xlsx_bytes(rows: list[list], *, title: str = "客户（L）") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def row(company_id, name, **cells) -> list:
    """One workbook row in the standard column order; cells by field name."""
    values = {"company_id": company_id, "name": name, **cells}
    return [values.get(c.field) for c in COLUMNS]


def standard(*rows: list, title: str = "客户（L）") -> bytes:
    return xlsx_bytes([HEADER, *rows], title=title)


def lying_dimension(rows: int) -> bytes:
    """A workbook whose <dimension> tag claims A1:B2 although it holds `rows` data rows."""
    data = standard(*[row(1000 + i, f"公司{i}") for i in range(rows)])
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                start = text.index('<dimension ref="') + len('<dimension ref="')
                end = text.index('"', start)
                content = (text[:start] + "A1:B2" + text[end:]).encode()
            target.writestr(info, content)
    return buffer.getvalue()
