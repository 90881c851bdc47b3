"""Usage ingestion: one bulk, idempotent door (file import, manual entry and the API) plus
the readers of the two usage sheets (the long list of shoots and the wide monthly table)."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

import xlsxwriter
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from accounts.roles import can_manage_billing
from billing.close.lock import closed_months, next_open_month
from billing.models import UsageRecord
from customers.models import DeviceSeries
from customers.selectors import scoped_customers
from opcms.months import month_start
from opcms.spreadsheets import SpreadsheetError, spreadsheet_read

FIELD_LABELS = {
    "company_id": "公司id",
    "series": "设备系列",
    "shot_date": "拍摄日期",
    "floors": "楼层数",
    "shots": "拍摄量",
    "area": "面积",
    "source_ref": "来源单号",
}


@dataclass
class UsageIngestResult:
    created: int = 0
    duplicates: int = 0
    late: int = 0  # dated in a closed month: billed in the next open one
    errors: list[dict[str, Any]] = field(default_factory=list)


# Column limits: a value past them would make the database refuse the whole batch
# (PostgreSQL raises on integer overflow), so it is one record's error instead.
MAX_COMPANY_ID = 2**63 - 1  # BigIntegerField
MAX_COUNT = 2_147_483_647  # PositiveIntegerField (shots, floors)
MAX_AREA = Decimal("1e12")  # DecimalField(max_digits=14, decimal_places=2)


def _int(value: Any, name: str, minimum: int, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    number = int(str(value).strip()) if not isinstance(value, int) else value
    if not minimum <= number <= maximum:
        raise ValueError
    return number


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip().replace("/", "-"))


def _clean(record: dict[str, Any], series: dict[str, DeviceSeries]) -> tuple[dict, list[tuple]]:
    """Typed values of one record and its errors as (field, message)."""
    errors: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    checks = [
        ("company_id", lambda v: _int(v, "company_id", 1, MAX_COMPANY_ID), "必须是正整数"),
        ("shot_date", _date, "必须是日期，如 2025-10-16"),
        ("floors", lambda v: _int(v, "floors", 1), f"必须是 1 到 {MAX_COUNT} 之间的整数"),
        ("shots", lambda v: _int(v, "shots", 1), f"必须是 1 到 {MAX_COUNT} 之间的整数"),
    ]
    for name, convert, message in checks:
        raw = record.get(name)
        if raw in (None, "") and name == "shots":
            raw = 1
        if raw in (None, "") and name == "floors":
            raw = 1
        try:
            if raw in (None, ""):
                raise ValueError
            values[name] = convert(raw)
        except (ValueError, TypeError):
            errors.append(
                (name, f"{FIELD_LABELS[name]}“{raw if raw is not None else ''}”{message}")
            )
    code = str(record.get("series") or "").strip().upper()
    if code not in series:
        errors.append(("series", f"设备系列“{code}”不存在（可选：{'、'.join(series)}）"))
    else:
        values["series"] = series[code]
    area = record.get("area")
    if area not in (None, ""):
        try:
            values["area"] = Decimal(str(area))
            if not values["area"].is_finite() or not 0 <= values["area"] < MAX_AREA:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(("area", f"面积“{area}”必须是 0 到 999,999,999,999.99 之间的数字"))
    ref = record.get("source_ref")
    ref = str(ref).strip() if ref not in (None, "") else None
    if ref and len(ref) > 100:
        errors.append(("source_ref", "来源单号不能超过 100 个字符"))
    values["source_ref"] = ref
    values["note"] = str(record.get("note") or "")[:200]
    return values, errors


def usage_ingest(
    *, records: list[dict], user: Any, atomic: bool = False, source: str = "api"
) -> UsageIngestResult:
    """Store usage records in bulk; a source_ref already stored (or repeated) counts once.

    Queries do not grow with the batch: one for series, one for the customers in
    the caller's scope, one for known source refs, then a bulk insert. With
    `atomic`, any error stores nothing. Company ids outside the user's scope are
    errors, exactly like unknown ones (the caller learns nothing about them).
    """
    if not can_manage_billing(user):
        raise PermissionDenied("无权录入用量")
    result = UsageIngestResult()
    series = {s.code.upper(): s for s in DeviceSeries.objects.filter(is_active=True)}
    cleaned = []
    for index, record in enumerate(records):
        values, errors = _clean(record if isinstance(record, dict) else {}, series)
        for name, message in errors:
            result.errors.append({"index": index, "field": name, "message": message})
        cleaned.append(None if errors else values)
    company_ids = {v["company_id"] for v in cleaned if v}
    customers = dict(
        scoped_customers(user).filter(company_id__in=company_ids).values_list("company_id", "id")
    )
    refs = {v["source_ref"] for v in cleaned if v and v["source_ref"]}
    known = set(
        UsageRecord.objects.filter(source_ref__in=refs).values_list("source_ref", flat=True)
    )
    to_create: list[dict[str, Any]] = []
    created_by_id = user.pk if getattr(user, "is_authenticated", False) else None
    for index, values in enumerate(cleaned):
        if values is None:
            continue
        customer_id = customers.get(values["company_id"])
        if customer_id is None:
            result.errors.append(
                {
                    "index": index,
                    "field": "company_id",
                    "message": f"公司id {values['company_id']} 不存在或不在您的数据范围内",
                }
            )
            continue
        ref = values["source_ref"]
        if ref and ref in known:
            result.duplicates += 1
            continue
        if ref:
            known.add(ref)
        # Plain rows, not model instances: building 10,000 models costs more than inserting.
        to_create.append(
            {
                "customer_id": customer_id,
                "series_id": values["series"].pk,
                "shot_date": values["shot_date"],
                "floors": values["floors"],
                "shots": values["shots"],
                "area": values.get("area"),
                "source_ref": ref,
                "source": source,
                "note": values["note"],
                "created_by_id": created_by_id,
            }
        )
    result.errors.sort(key=lambda e: e["index"])
    if atomic and result.errors:
        return result
    _route_late(to_create, result)
    with transaction.atomic():
        # A concurrent sender of the same source_ref (a client retrying after a timeout)
        # loses quietly; the insert's row count tells how many were new.
        created = _insert_unnest(to_create)
        result.duplicates += len(to_create) - created
        result.created = created
        if created:
            from billing.audit import audit_bulk

            audit_bulk(
                user=user,
                model=UsageRecord,
                summary=f"录入用量 {created} 条（{source}）",
                changes={"新增": created, "重复": result.duplicates, "来源": source},
            )
    return result


def _route_late(rows: list[dict[str, Any]], result: UsageIngestResult) -> None:
    """Usage dated in a closed month is kept, billed in the next open month (补计用量)."""
    months = {month_start(r["shot_date"]) for r in rows}
    closed = closed_months(months) if months else set()
    for row in rows:
        month = month_start(row["shot_date"])
        if month in closed:
            row["billed_in_period"] = next_open_month(month)
            result.late += 1


def _insert_unnest(rows: list[dict[str, Any]]) -> int:
    """One INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING; returns rows inserted.

    bulk_create spends most of its time compiling SQL per value; one statement over
    typed arrays inserts 10,000 rows in tens of milliseconds (bench/api_ingest.py).
    """
    if not rows:
        return 0
    now = timezone.now()
    columns = {
        "customer_id": ("bigint", [r["customer_id"] for r in rows]),
        "series_id": ("bigint", [r["series_id"] for r in rows]),
        "shot_date": ("date", [r["shot_date"] for r in rows]),
        "shots": ("integer", [r["shots"] for r in rows]),
        "floors": ("integer", [r["floors"] for r in rows]),
        "area": ("numeric", [r["area"] for r in rows]),
        "source_ref": ("varchar", [r["source_ref"] for r in rows]),
        "source": ("varchar", [r["source"] for r in rows]),
        "note": ("varchar", [r["note"] for r in rows]),
        "created_by_id": ("bigint", [r["created_by_id"] for r in rows]),
        "billed_in_period": ("date", [r.get("billed_in_period") for r in rows]),
        "created_at": ("timestamptz", [now] * len(rows)),
    }
    names = ", ".join(columns)
    arrays = ", ".join(f"%s::{kind}[]" for kind, _ in columns.values())
    sql = (
        f"INSERT INTO {UsageRecord._meta.db_table} ({names}) "  # noqa: S608 (fixed names)
        f"SELECT * FROM unnest({arrays}) ON CONFLICT (source_ref) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [values for _, values in columns.values()])
        return cursor.rowcount


# --- the two sheets ------------------------------------------------------------------

LONG_HEADERS = {
    "公司id": "company_id",
    "设备系列": "series",
    "日期": "shot_date",
    "拍摄日期": "shot_date",
    "楼层数": "floors",
    "拍摄量": "shots",
    "面积": "area",
    "面积（m²）": "area",
    "来源单号": "source_ref",
}
MONTH_HEADER = re.compile(r"^(\d{1,2})月$")


@dataclass
class ParsedSheet:
    kind: str  # "long" or "wide"
    sheet: str
    records: list[dict[str, Any]]
    rows: list[int]  # the workbook row of each record (for messages)
    columns: dict[str, str]  # field → column letter/title, for messages
    problems: list[dict[str, Any]] = field(default_factory=list)  # {row, column, message}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, so the upload parses once and the preview reads it back from the job."""
        return {
            "kind": self.kind,
            "sheet": self.sheet,
            "records": [{k: _json_cell(v) for k, v in r.items()} for r in self.records],
            "rows": self.rows,
            "columns": self.columns,
            "problems": self.problems,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedSheet:
        return cls(**data)


def _json_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()  # a shoot is a calendar day
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # PostgreSQL's jsonb has no NaN
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# A file that cannot be read at all (hostile, broken, no usage sheet): a Chinese message.
SheetError = SpreadsheetError


def _header(row: tuple) -> list[str]:
    return [str(c).strip() if c is not None else "" for c in row]


def sheet_kind(header: list[str]) -> str | None:
    if any(MONTH_HEADER.match(h) for h in header) and "公司id" in header:
        return "wide"
    if "公司id" in header and ("日期" in header or "拍摄日期" in header):
        return "long"
    return None


def read_usage_workbook(
    file: BinaryIO | bytes,
    *,
    kind: str,
    series: str,
    year: int | None = None,
    filename: str = "",
) -> ParsedSheet:
    """Read the first sheet of the wanted kind (.xlsx, or .csv). The wide sheet needs `year`;
    its cells become one record per customer and month with a deterministic source ref,
    so a re-import of the same sheet never counts twice."""
    for ws in spreadsheet_read(file, filename=filename).sheets():
        rows = ws.rows
        if not rows:
            continue
        header = _header(rows[0])
        if sheet_kind(header) != kind:
            continue
        if kind == "long":
            return _read_long(ws.title, header, rows[1:], series)
        if year is None:
            raise SheetError("导入分月汇总表需要选择年份")
        return _read_wide(ws.title, header, rows[1:], series.upper(), year)
    label = (
        "拍摄明细（公司id、设备系列、日期、楼层数、拍摄量、来源单号）"
        if kind == "long"
        else "分月汇总（公司id、1月…12月）"
    )
    raise SheetError(f"工作簿中没有找到{label}工作表")


def _read_long(title, header, rows, default_series) -> ParsedSheet:
    columns = {}
    index = {}
    for i, name in enumerate(header):
        if name in LONG_HEADERS:
            index[LONG_HEADERS[name]] = i
            columns[LONG_HEADERS[name]] = name
    parsed = ParsedSheet("long", title, [], [], columns)
    for offset, row in enumerate(rows, 2):
        if not any(c not in (None, "") for c in row):
            continue
        record = {f: row[i] if i < len(row) else None for f, i in index.items()}
        record.setdefault("series", default_series)
        if record.get("series") in (None, ""):
            record["series"] = default_series
        parsed.records.append(record)
        parsed.rows.append(offset)
    return parsed


def _read_wide(title, header, rows, series, year) -> ParsedSheet:
    months = {i: int(m.group(1)) for i, h in enumerate(header) if (m := MONTH_HEADER.match(h))}
    id_col = header.index("公司id")
    total_col = header.index("全年合计") if "全年合计" in header else None
    parsed = ParsedSheet("wide", title, [], [], {"company_id": "公司id", "shots": "月份"})
    for offset, row in enumerate(rows, 2):
        if not any(c not in (None, "") for c in row):
            continue
        company_id = row[id_col]
        try:
            company_id = int(company_id)
        except (TypeError, ValueError, OverflowError):
            parsed.problems.append(
                {"row": offset, "column": "公司id", "message": f"公司id“{company_id}”不是整数"}
            )
            continue
        month_sum = 0
        for col, month in months.items():
            value = row[col] if col < len(row) else None
            if value in (None, "", 0):
                continue
            try:
                shots = _int(value, "shots", 0)
            except (TypeError, ValueError):
                parsed.problems.append(
                    {
                        "row": offset,
                        "column": header[col],
                        "message": f"{header[col]}“{value}”不是非负整数",
                    }
                )
                continue
            if shots == 0:
                continue
            month_sum += shots
            parsed.records.append(
                {
                    "company_id": company_id,
                    "series": series,
                    "shot_date": date(year, month, 1),
                    "floors": 1,
                    "shots": shots,
                    "source_ref": f"WIDE-{series}-{year}-{month:02d}-{company_id}",
                    "note": "分月汇总导入（按单层计）",
                }
            )
            parsed.rows.append(offset)
        total = row[total_col] if total_col is not None and total_col < len(row) else None
        if isinstance(total, int | float) and math.isfinite(total):
            if int(row[total_col]) != month_sum:
                parsed.problems.append(
                    {
                        "row": offset,
                        "column": "全年合计",
                        "message": f"全年合计 {row[total_col]} 与各月之和 {month_sum} 不一致（仅提示）",
                        "warning": True,
                    }
                )
    return parsed


def sheet_errors(parsed: ParsedSheet, result: UsageIngestResult) -> list[dict[str, Any]]:
    """Row/column/message for every problem: the sheet's own plus the ingest errors."""
    problems = [p for p in parsed.problems]
    for error in result.errors:
        problems.append(
            {
                "row": parsed.rows[error["index"]],
                "column": parsed.columns.get(error["field"], FIELD_LABELS.get(error["field"], "")),
                "message": error["message"],
            }
        )
    return sorted(problems, key=lambda p: p["row"])


def error_workbook(problems: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    ws = wb.add_worksheet("错误明细")
    for col, title in enumerate(["行号", "列", "问题"]):
        ws.write_string(0, col, title)
    for i, p in enumerate(problems, 1):
        ws.write_number(i, 0, p["row"])
        ws.write_string(i, 1, str(p["column"]))
        ws.write_string(i, 2, ("提示：" if p.get("warning") else "") + str(p["message"]))
    ws.set_column(2, 2, 60)
    wb.close()
    return buffer.getvalue()


def usage_import_file(
    *,
    file: BinaryIO,
    user: Any,
    kind: str,
    series: str,
    year: int | None,
    commit: bool,
    filename: str = "",
) -> tuple[ParsedSheet, UsageIngestResult, list[dict[str, Any]]]:
    """Read the file, then preview or import it (see usage_import_parsed)."""
    parsed = read_usage_workbook(file, kind=kind, series=series, year=year, filename=filename)
    return usage_import_parsed(parsed=parsed, user=user, commit=commit)


def usage_import_parsed(
    *, parsed: ParsedSheet, user: Any, commit: bool
) -> tuple[ParsedSheet, UsageIngestResult, list[dict[str, Any]]]:
    """Preview (commit=False: validate only) or import atomically (nothing stored on any error)."""
    blocking = [p for p in parsed.problems if not p.get("warning")]
    if not commit or blocking:
        with transaction.atomic():
            result = usage_ingest(records=parsed.records, user=user, atomic=True, source="import")
            transaction.set_rollback(True)
        if commit:
            result.created = 0
        return parsed, result, sheet_errors(parsed, result)
    result = usage_ingest(records=parsed.records, user=user, atomic=True, source="import")
    return parsed, result, sheet_errors(parsed, result)
