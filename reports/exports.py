"""Report workbooks: the receivables report as .xlsx, amounts as numbers, text never a formula."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import Any

import xlsxwriter

from customers.exports import TextWriter

from .selectors import AGEING_BUCKETS

RECEIVABLE_COLUMNS = [
    ("公司id", 10),
    ("公司名称", 30),
    ("销售负责人", 12),
    ("账期月份", 10),
    ("账单号", 24),
    ("到期日", 12),
    ("应收", 14),
    ("实收", 14),
    ("未收", 14),
    ("逾期", 14),
    *[(label, 12) for _key, label, _first, _last in AGEING_BUCKETS],
]
AMOUNT_KEYS = [
    "billed",
    "received",
    "outstanding",
    "overdue",
    *[key for key, _label, _first, _last in AGEING_BUCKETS],
]


def receivables_xlsx(*, rows: Iterable[Any], totals: dict[str, Any]) -> bytes:
    """One sheet: a row per customer and month, then the totals row.

    Written row by row in constant memory to a temporary file: an export of a
    year of 100,000 customers is a million rows.
    """
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as target:
        _write_receivables(target.name, rows=rows, totals=totals)
        return target.read()


def _write_receivables(path: str, *, rows: Iterable[Any], totals: dict[str, Any]) -> None:
    # Customer names come from a spreadsheet and may start with "=": never a formula.
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet("应收账款")
    cells = TextWriter(workbook)
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF2F7"})
    amount = workbook.add_format({"num_format": "¥#,##0.00"})
    bold_amount = workbook.add_format({"num_format": "¥#,##0.00", "bold": True})
    for col, (title, width) in enumerate(RECEIVABLE_COLUMNS):
        sheet.write_string(0, col, title, bold)
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 2)
    row_index = 0
    for row_index, bill in enumerate(rows, start=1):
        customer = bill.customer
        sheet.write_number(row_index, 0, customer.company_id)
        cells.write(sheet, row_index, 1, customer.name)
        cells.write(sheet, row_index, 2, customer.sales_owner_display or "")
        sheet.write_string(row_index, 3, bill.period.strftime("%Y-%m"))
        cells.write(sheet, row_index, 4, bill.number)
        sheet.write_string(row_index, 5, bill.due_date.isoformat() if bill.due_date else "")
        for offset, key in enumerate(AMOUNT_KEYS):
            sheet.write_number(row_index, 6 + offset, getattr(bill, key), amount)
    total_row = row_index + 1
    sheet.write_string(total_row, 0, "合计", bold)
    for offset, key in enumerate(AMOUNT_KEYS):
        sheet.write_number(total_row, 6 + offset, totals[key], bold_amount)
    workbook.close()
