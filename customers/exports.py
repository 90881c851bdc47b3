"""Customer exports (.xlsx / .csv): which customers, which columns, written without executable cells.

Every export starts from `scoped_customers(user)`; the columns reuse the
import headers, so an exported file imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from .filters import CustomerFilter
from .models import Customer, LifecycleStatus
from .selectors import scoped_customers

CHUNK = 2000
# Exports up to this many rows are written in the request; bigger ones run as a job.
SYNC_MAX_ROWS = 3000

# key → (Chinese header, values() lookups it needs)
EXPORT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "company_id": ("公司id", ("company_id",)),
    "name": ("公司名称", ("name",)),
    "account_type": ("账号类型", ("account_type__value",)),
    "industry": ("行业类型", ("industry__value",)),
    "erp": ("所属ERP", ("erp__value",)),
    "onboarded": ("接入时间", ("onboarded_raw", "onboarded_year", "onboarded_half")),
    "level": ("客户等级", ("level",)),
    "sales_owner": (
        "销售负责人",
        ("sales_owner__full_name", "sales_owner__username", "sales_owner_raw"),
    ),
    "ops_owners": ("运营负责人", ("ops_owners_raw",)),
    "cooperation": ("合作状态", ("cooperation_note",)),
    "billing_enabled": ("是否结算", ("billing_enabled",)),
    "disabled": ("是否停用", ("disabled",)),
    "remarks": ("备注", ("remarks",)),
    "settlement_method": ("结算方式", ("settlement_method",)),
    "consumption_level": ("客户消费等级", ("consumption_level",)),
    "monthly_avg_shots": ("月均拍摄量", ("monthly_avg_shots",)),
    "lifecycle_status": ("生命周期状态", ("lifecycle_status",)),
    "updated_at": ("更新时间", ("updated_at",)),
}
FORMATS = ("xlsx", "csv")
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_BILLING = dict(Customer.BillingEnabled.choices)
_SETTLEMENT = dict(Customer.SettlementMethod.choices)
_LIFECYCLE = dict(LifecycleStatus.choices)


def is_dangerous(text: str) -> bool:
    """Text a spreadsheet would run as a formula (CSV injection: = + - @, tab, CR)."""
    return bool(text) and text.startswith(DANGEROUS_PREFIXES)


class TextWriter:
    """Writes the text cells of one xlsxwriter workbook: the one formula guard of every
    .xlsx export (customers, statement, receivables). Text a spreadsheet would run as a
    formula gets quote_prefix, which marks it as text as a leading ' typed in Excel does.
    """

    def __init__(self, workbook: Any) -> None:
        self.literal = workbook.add_format({"quote_prefix": True})

    def write(self, sheet: Any, row: int, col: int, text: str, cell_format: Any = None) -> None:
        sheet.write_string(row, col, text, self.literal if is_dangerous(text) else cell_format)


def csv_safe(value: Any) -> Any:
    """Prefix an apostrophe to dangerous text so Excel shows it as text (OWASP advice)."""
    if isinstance(value, str) and is_dangerous(value):
        return "'" + value
    return value


# GET parameters of the list page that are not filters (paging, sorting, columns, export flow).
# `sort` is kept: CustomerFilter orders by it, so an export comes out in the list's order.
NON_FILTER_KEYS = ("page", "per_page", "cols", "cols_set", "ids", "scope")


def filter_params(params: Mapping[str, Any] | str | None) -> QueryDict:
    """The list's filter parameters as a QueryDict, from a request's GET, a stored query or a dict.

    A QueryDict keeps repeated keys; export jobs store it urlencoded for the
    same reason, so a background export filters exactly like the page did.
    """
    if isinstance(params, QueryDict):
        query = params.copy()
    elif isinstance(params, str):
        query = QueryDict(params, mutable=True)
    else:
        query = QueryDict(mutable=True)
        for key, value in (params or {}).items():
            query.setlist(
                key, [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
            )
    for key in NON_FILTER_KEYS:
        query.pop(key, None)
    return query


def customer_filter_apply(
    queryset: QuerySet[Customer], params: Mapping[str, Any] | str | None, *, user: Any = None
) -> QuerySet[Customer]:
    """Narrow by the customer list's GET parameters through the shared CustomerFilter."""
    return CustomerFilter(filter_params(params), queryset=queryset, user=user).qs


def export_queryset(
    *,
    user: Any,
    scope: str = "all",
    params: Mapping[str, Any] | str | None = None,
    ids: list[int] | None = None,
) -> QuerySet[Customer]:
    """The customers to export: all in scope, the current filter, or the selected ids."""
    queryset = scoped_customers(user)
    if scope == "filter":
        queryset = customer_filter_apply(queryset, params, user=user)
    elif scope == "selection":
        queryset = queryset.filter(pk__in=ids or [])
    return queryset


def _chunks(queryset: QuerySet[Customer], lookups: list[str]) -> Iterator[list[dict[str, Any]]]:
    """values() rows a chunk at a time, in the queryset's own order when it has one.

    Unsorted: pk order with keyset paging (memory stays flat). Sorted by the
    list's `sort`: the ordered ids are read once (8 bytes a customer), then
    their rows chunk by chunk, so the file follows the list's order.
    """
    if queryset.query.order_by:
        ids = list(queryset.values_list("pk", flat=True))
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            rows = {
                r["pk"]: r for r in queryset.order_by().filter(pk__in=part).values("pk", *lookups)
            }
            yield [rows[pk] for pk in part if pk in rows]
        return
    base = queryset.order_by("pk")
    last = 0
    while True:
        chunk = list(base.filter(pk__gt=last).values("pk", *lookups)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1]["pk"]
        yield chunk


def _rows(queryset: QuerySet[Customer], fields: list[str]) -> Iterator[list[Any]]:
    """Export rows, a chunk at a time."""
    lookups = sorted({lk for f in fields for lk in EXPORT_FIELDS[f][1]})
    through = Customer.ops_owners.through
    for chunk in _chunks(queryset, lookups):
        ops: dict[int, list[str]] = {}
        if "ops_owners" in fields:
            for customer_id, full_name, username in (
                through.objects.filter(customer_id__in=[c["pk"] for c in chunk])
                .order_by("pk")
                .values_list("customer_id", "user__full_name", "user__username")
            ):
                ops.setdefault(customer_id, []).append(full_name or username)
        getters = [_getter(f, ops) for f in fields]
        for item in chunk:
            yield [get(item) for get in getters]


def _simple(lookup: str) -> Callable[[dict[str, Any]], Any]:
    def get(item: dict[str, Any]) -> Any:
        value = item[lookup]
        return "" if value is None else value

    return get


def _onboarded(item: dict[str, Any]) -> str:
    if item["onboarded_raw"]:
        return item["onboarded_raw"]
    if item["onboarded_year"]:
        half = "上" if item["onboarded_half"] == 1 else "下"
        return f"{item['onboarded_year'] % 100}{half}半年"
    return ""


def _getter(key: str, ops: dict[int, list[str]]) -> Callable[[dict[str, Any]], Any]:
    """How one export column is read from a values() row (a function per column, chosen once)."""
    if key == "onboarded":
        return _onboarded
    if key == "sales_owner":
        return lambda i: (
            i["sales_owner__full_name"] or i["sales_owner__username"] or i["sales_owner_raw"]
        )
    if key == "ops_owners":
        return lambda i: "、".join(
            [*ops.get(i["pk"], []), *([i["ops_owners_raw"]] if i["ops_owners_raw"] else [])]
        )
    if key == "billing_enabled":
        return lambda i: _BILLING.get(i["billing_enabled"], "")
    if key == "disabled":
        return lambda i: {True: "是", False: "否"}.get(i["disabled"], "")
    if key == "settlement_method":
        return lambda i: _SETTLEMENT.get(i["settlement_method"], "")
    if key == "lifecycle_status":
        return lambda i: _LIFECYCLE.get(i["lifecycle_status"], i["lifecycle_status"])
    if key == "updated_at":
        return lambda i: timezone.localtime(i["updated_at"]).strftime("%Y-%m-%d %H:%M")
    return _simple(EXPORT_FIELDS[key][1][0])


def export_write(
    *,
    queryset: QuerySet[Customer],
    fields: list[str],
    fmt: str,
    output: Any,
    progress: Callable[..., None] | None = None,
    user: Any = None,
    sections: bool = False,
) -> int:
    """Write the export to the binary file object `output`; returns the number of customers.

    With `sections` (xlsx only) every detail section follows on a sheet of its
    own, keyed by 公司id; fields hidden from `user` are left out of every sheet.
    """
    fields = [f for f in fields if f in EXPORT_FIELDS] or list(EXPORT_FIELDS)
    headers = [EXPORT_FIELDS[f][0] for f in fields]
    total = queryset.count() if progress else 0
    count = 0
    if fmt == "csv":
        # UTF-8 with BOM: without it Excel opens the file as GBK and garbles it.
        text = io.TextIOWrapper(output, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow(headers)
        for row in _rows(queryset, fields):
            writer.writerow([csv_safe(v) for v in row])
            count += 1
            if progress and count % 1000 == 0:
                progress(count, total)
        text.flush()
        text.detach()
        return count

    import xlsxwriter

    # constant_memory streams rows to disk; formulas and URLs off so text stays text.
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet("客户")
    bold = workbook.add_format({"bold": True})
    # The hot loop below inlines TextWriter.write (same rule, same format): a call per
    # cell costs seconds at 100,000 rows.
    literal = TextWriter(workbook).literal
    sheet.write_row(0, 0, headers, bold)
    sheet.freeze_panes(1, 0)
    line = 0
    write_string, write_number = sheet.write_string, sheet.write_number
    for row in _rows(queryset, fields):
        line += 1
        for col, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if value:
                    if value.startswith(DANGEROUS_PREFIXES):
                        write_string(line, col, value, literal)
                    else:
                        write_string(line, col, value)
            elif kind is int or kind is float:
                write_number(line, col, value)
            elif value is not None:
                write_string(line, col, str(value))
        if progress and line % 1000 == 0:
            progress(line, total)
    if sections:
        from .section_exports import section_sheets_write

        section_sheets_write(workbook, queryset=queryset, user=user, bold=bold, literal=literal)
    workbook.close()
    return line


def export_filename(fmt: str) -> str:
    return f"客户导出-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
