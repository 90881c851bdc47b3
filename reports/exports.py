"""Report workbooks: the receivables report as .xlsx, amounts as numbers, text never a formula."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import Any

import xlsxwriter

from customers.exports import TextWriter, is_dangerous

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


def deleted_marked(name: str, is_deleted: bool) -> str:
    """A soft-deleted customer's name in an export, marked as on screen (its money stays)."""
    return f"{name}（已删除）" if is_deleted else name


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
        cells.write(sheet, row_index, 1, deleted_marked(customer.name, customer.is_deleted))
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


# --- month-end close: payment summary and settlement status (月结财务导出) -----------------


def period_finance_xlsx(*, month_text: str, payments: list[dict], settlement: dict) -> bytes:
    """Two sheets for finance: the month's receipts per customer, and its bills by status."""
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as target:
        workbook = xlsxwriter.Workbook(
            target.name,
            {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
        )
        bold = workbook.add_format({"bold": True, "bg_color": "#EEF2F7"})
        amount = workbook.add_format({"num_format": "¥#,##0.00"})
        literal = workbook.add_format({"quote_prefix": True})

        def text(sheet, row: int, col: int, value: str) -> None:
            # The same guard as every export: text that looks like a formula stays text.
            value = value or ""
            sheet.write_string(row, col, value, literal if is_dangerous(value) else None)

        sheet = workbook.add_worksheet(f"{month_text} 收款汇总")
        for col, title in enumerate(["公司id", "客户", "笔数", "收款", "已核销", "未核销"]):
            sheet.write_string(0, col, title, bold)
        for row, p in enumerate(payments, start=1):
            sheet.write_number(row, 0, p["customer__company_id"])
            text(sheet, row, 1, deleted_marked(p["customer__name"], p["customer__is_deleted"]))
            sheet.write_number(row, 2, p["payment_count"])
            for col, key in enumerate(("received", "allocated_amount", "unallocated"), start=3):
                sheet.write_number(row, col, p[key], amount)

        sheet = workbook.add_worksheet(f"{month_text} 结算状态")
        for col, title in enumerate(["状态", "张数", "金额", "已收"]):
            sheet.write_string(0, col, title, bold)
        row = 0
        for row, s in enumerate(settlement["by_status"], start=1):
            text(sheet, row, 0, s["label"])
            sheet.write_number(row, 1, s["bill_count"])
            sheet.write_number(row, 2, s["amount"], amount)
            sheet.write_number(row, 3, s["paid"], amount)
        heading = row + 2
        sheet.write_string(heading, 0, "开启结算但本月没有账单的客户", bold)
        for line, customer in enumerate(settlement["missing"], start=heading + 1):
            sheet.write_number(line, 0, customer.company_id)
            text(sheet, line, 1, customer.name)
        workbook.close()
        return target.read()
