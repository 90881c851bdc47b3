"""The what-if as an .xlsx workbook (one row per customer and the totals) and as the
JSON file a what-if job stores for its result page."""

from __future__ import annotations

import io
import json

import xlsxwriter

from customers.exports import DANGEROUS_PREFIXES

HEADERS = ["公司id", "客户", "已出账", "现行方案", "候选方案", "差额", "变化（%）"]


def whatif_xlsx(*, rows: list[dict], totals: dict, months: list) -> bytes:
    output = io.BytesIO()
    # Formulas and URLs off: a customer name like "=1+1" stays text (as the customer export).
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet("价格试算")
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    literal = workbook.add_format({"quote_prefix": True})
    span = f"{months[0]:%Y-%m} 至 {months[-1]:%Y-%m}" if months else ""
    sheet.write_string(0, 0, f"价格试算 {span}", bold)
    sheet.write_row(1, 0, HEADERS, bold)
    sheet.freeze_panes(2, 0)
    line = 1
    for row in rows:
        line += 1
        for col, key in enumerate(("company_id", "name")):
            text = str(row[key])
            sheet.write_string(
                line, col, text, literal if text.startswith(DANGEROUS_PREFIXES) else None
            )
        for col, key in enumerate(("billed", "current", "candidate", "difference"), 2):
            sheet.write_number(line, col, float(row[key]), money)
        if row["change_pct"] is not None:
            sheet.write_number(line, 6, float(row["change_pct"]))
        else:
            sheet.write_string(line, 6, "新增")
    line += 1
    sheet.write_string(line, 1, "合计", bold)
    for col, key in enumerate(("billed", "current", "candidate", "difference"), 2):
        sheet.write_number(line, col, float(totals[key]), money)
    if totals.get("change_pct") is not None:
        sheet.write_number(line, 6, float(totals["change_pct"]))
    workbook.close()
    return output.getvalue()


def whatif_json(result) -> bytes:
    """A WhatIfResult as the job's result file: amounts as decimal strings (read back with
    Decimal), one dict per customer. Built directly, not through an encoder's fallback:
    100,000 rows would call it half a million times."""
    rows = []
    for r in result.rows:
        pct = r.change_pct
        rows.append(
            {
                "customer_id": r.customer_id,
                "company_id": r.company_id,
                "name": r.name,
                "billed": str(r.billed),
                "current": str(r.current),
                "candidate": str(r.candidate),
                "difference": str(r.difference),
                "change_pct": None if pct is None else str(pct),
                "unpriced": r.unpriced,
            }
        )
    payload = {"months": [m.isoformat() for m in result.months], "rows": rows}
    return json.dumps(payload, ensure_ascii=False).encode()
