"""Finance export of a month (月结): its bills with their lines as .xlsx or .csv.

Text goes through the one formula guard of every export (customers.exports.csv_safe
for CSV, a quote-prefixed string cell for xlsx), amounts stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied

from accounts.models import Job
from accounts.roles import can_export
from accounts.services import job_attach_file, job_create, job_enqueue
from billing.models import Bill, BillLine
from customers.exports import DANGEROUS_PREFIXES, csv_safe
from customers.selectors import scoped_customers
from opcms.months import month_format, month_parse

HEADERS = [
    "账单号",
    "公司id",
    "客户",
    "设备系列",
    "明细类型",
    "数量",
    "楼层类型",
    "单价",
    "金额",
    "计算说明",
    "账单状态",
    "到期日",
    "已收",
    "未收余额",
]
# A month with more lines than this is exported by a background job with progress.
JOB_THRESHOLD_LINES = 5_000

_STATUS = dict(Bill.Status.choices)
_LINE_TYPE = dict(BillLine.LineType.choices)
_FLOORS = {"single": "单层", "multi": "多层", "all": "全部", "": ""}


def period_lines(*, user: Any, month: date):
    # A soft-deleted customer's bills stay in the month's finance export: money never
    # disappears (the same rule as receivables and the cockpit).
    customers = scoped_customers(user, include_deleted=True)
    return (
        BillLine.objects.filter(
            bill__customer__in=customers, bill__period=month, bill__kind=Bill.Kind.BILL
        )
        .exclude(bill__status=Bill.Status.REVERSED)
        .order_by("bill__number", "position")
    )


def _rows(lines) -> Iterator[list[Any]]:
    for line in lines.values_list(
        "bill__number",
        "bill__customer__company_id",
        "bill__customer__name",
        "series__code",
        "line_type",
        "quantity",
        "floor_type",
        "unit_price",
        "amount",
        "explanation",
        "bill__status",
        "bill__due_date",
        "bill__amount_paid",
        "bill__total",
    ).iterator(chunk_size=2000):
        (
            number,
            company,
            name,
            series,
            kind,
            qty,
            floors,
            price,
            amount,
            text,
            status,
            due,
            paid,
            total,
        ) = line
        yield [
            number,
            company,
            name,
            series or "",
            _LINE_TYPE.get(kind, kind),
            qty,
            _FLOORS.get(floors, floors),
            price,
            amount,
            text,
            _STATUS.get(status, status),
            due.isoformat() if due else "",
            paid,
            total - paid,
        ]


def period_export_write(
    *, user: Any, month: date, fmt: str, output: BinaryIO, progress: Callable | None = None
) -> int:
    """Write the month's bill lines to `output`; returns the number of lines."""
    if not can_export(user):
        raise PermissionDenied("无权导出")
    lines = period_lines(user=user, month=month)
    total = lines.count() if progress else 0
    count = 0
    if fmt == "csv":
        text = io.TextIOWrapper(output, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow(HEADERS)
        for row in _rows(lines):
            writer.writerow([csv_safe(v) for v in row])
            count += 1
            if progress and count % 1000 == 0:
                progress(count, total)
        text.flush()
        text.detach()
        return count

    import xlsxwriter

    book = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = book.add_worksheet(f"{month_format(month)} 账单明细")
    bold = book.add_format({"bold": True})
    literal = book.add_format({"quote_prefix": True})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.write_row(0, 0, HEADERS, bold)
    sheet.freeze_panes(1, 0)
    for count, row in enumerate(_rows(lines), 1):
        for col, value in enumerate(row):
            if isinstance(value, Decimal):
                sheet.write_number(count, col, float(value), money)
            elif isinstance(value, int):
                sheet.write_number(count, col, value)
            elif value and str(value).startswith(DANGEROUS_PREFIXES):
                sheet.write_string(count, col, str(value), literal)
            else:
                sheet.write_string(count, col, str(value))
        if progress and count % 1000 == 0:
            progress(count, total)
    book.close()
    return count


def period_export_job_start(*, user: Any, month: date, fmt: str) -> Job:
    """Large months: export in the background; the job page shows progress and the file."""
    if not can_export(user):
        raise PermissionDenied("无权导出")
    from billing.tasks import period_export_task  # tasks import services; avoid the cycle

    job = job_create(
        kind="period_export",
        created_by=user,
        title=f"导出 {month_format(month)} 账单明细",
        params={"period": month_format(month), "fmt": fmt},
    )
    job_enqueue(job=job, task=period_export_task)
    return job


def period_export_job_work(job: Job, progress) -> dict[str, Any]:
    month = month_parse(job.params["period"])
    fmt = job.params["fmt"]
    buffer = io.BytesIO()
    count = period_export_write(
        user=job.created_by, month=month, fmt=fmt, output=buffer, progress=progress
    )
    job_attach_file(
        job=job,
        field="result_file",
        name=f"账单明细-{month_format(month)}.{fmt}",
        content=buffer.getvalue(),
    )
    return {"明细行": count}
