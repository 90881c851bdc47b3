"""Usage ingestion. STAND-IN (issue 8): usage_ingest per the contract, bulk and idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from customers.selectors import scoped_customers

from .models import DeviceSeries, UsageRecord


@dataclass
class UsageIngestResult:
    created: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if not 1 <= number <= 2_147_483_647 or (isinstance(value, float) and value != number):
        return None
    return number


def usage_ingest(
    *, records: list[dict], user: Any, atomic: bool = False, source: str = "api"
) -> UsageIngestResult:
    result = UsageIngestResult()
    series_by_code = {s.code: s.pk for s in DeviceSeries.objects.filter(is_active=True)}
    company_ids = {r.get("company_id") for r in records if isinstance(r, dict)}
    wanted = [
        c for c in company_ids if isinstance(c, int) and not isinstance(c, bool) and abs(c) < 2**63
    ]
    customer_by_company = dict(
        scoped_customers(user).filter(company_id__in=wanted).values_list("company_id", "pk")
    )
    refs = [r.get("source_ref") for r in records if isinstance(r, dict) and r.get("source_ref")]
    existing = set(
        UsageRecord.objects.filter(source_ref__in=[str(r) for r in refs]).values_list(
            "source_ref", flat=True
        )
    )

    def error(index: int, field_name: str, message: str) -> None:
        result.errors.append({"index": index, "field": field_name, "message": message})

    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            error(index, "", f"第 {index + 1} 条：不是对象")
            continue
        n = index + 1
        before = len(result.errors)
        customer_pk = customer_by_company.get(record.get("company_id"))
        if customer_pk is None:
            error(
                index,
                "company_id",
                f"第 {n} 条：公司id {record.get('company_id')} 不存在或不在数据范围内",
            )
        series_pk = series_by_code.get(record.get("series"))
        if series_pk is None:
            error(index, "series", f"第 {n} 条：设备系列 {record.get('series')} 不存在")
        try:
            shot_date = date.fromisoformat(str(record.get("shot_date")))
        except ValueError:
            shot_date = None
            error(index, "shot_date", f"第 {n} 条：拍摄日期应为 YYYY-MM-DD")
        floors = _positive_int(record.get("floors", 1))
        if floors is None:
            error(index, "floors", f"第 {n} 条：楼层数应为正整数")
        shots = _positive_int(record.get("shots", 1))
        if shots is None:
            error(index, "shots", f"第 {n} 条：拍摄量应为正整数")
        area = record.get("area")
        if area is not None:
            try:
                area = Decimal(str(area))
                if not area.is_finite() or area < 0 or area >= Decimal("1e12"):
                    raise InvalidOperation
            except InvalidOperation:
                error(index, "area", f"第 {n} 条：面积应为非负数字")
        ref = record.get("source_ref")
        ref = str(ref) if ref not in (None, "") else None
        if ref is not None and len(ref) > 100:
            error(index, "source_ref", f"第 {n} 条：来源单号不能超过 100 个字符")
        if len(result.errors) > before:
            continue
        if ref is not None and (ref in existing or ref in seen):
            result.duplicates += 1
            continue
        if ref is not None:
            seen.add(ref)
        rows.append(
            {
                "customer_id": customer_pk,
                "series_id": series_pk,
                "shot_date": shot_date,
                "floors": floors,
                "shots": shots,
                "area": area,
                "source_ref": ref,
                "source": source,
                "note": "",
                "created_by_id": getattr(user, "pk", None),
            }
        )
    if atomic and result.errors:
        return result
    with transaction.atomic():
        if connection.vendor == "postgresql":
            created = _insert_unnest(rows)
        else:
            UsageRecord.objects.bulk_create(
                [UsageRecord(**row) for row in rows], batch_size=2000, ignore_conflicts=True
            )
            created = len(rows)
    # A reference inserted concurrently since the lookup above is a duplicate, not a new row.
    result.duplicates += len(rows) - created
    result.created = created
    return result


def _insert_unnest(rows: list[dict[str, Any]]) -> int:
    """One INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING; returns rows inserted.

    Django's bulk_create spends most of its time compiling per-value SQL; one
    statement over typed arrays inserts 10,000 rows in tens of milliseconds.
    """
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
