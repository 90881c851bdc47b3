"""Reading the company customer workbook (.xlsx / .csv): find, map, normalise, classify, commit.

The flow is split so every step is a plain function on a file object:
`table_open` (safety checks, header search) → `import_analyse` (normalise and
classify every row against the database, writes nothing) → `import_commit`
(one transaction, bulk writes, one audit entry). Views, the Celery task and the
`import_customers` command are thin adapters over these.
"""

from __future__ import annotations

import contextlib
import gc
import io
import operator
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from opcms.ids import ids_reserve
from opcms.missing import CODE_MISSING, MISSING, PERSON_MISSING
from opcms.spreadsheets import SpreadsheetError, spreadsheet_read, too_many_rows

from .lifecycle import cooperation_key
from .models import (
    CooperationStatusMapping,
    Customer,
    DictionaryItem,
    ImportedPrice,
    LifecycleChange,
    LifecycleStatus,
)
from .pinyin import name_sort_key

Progress = Callable[..., None]

# File limits (size, rows, cells, zip checks) live in opcms/spreadsheets.py.
HEADER_SEARCH_ROWS = 30
MAX_HINT_ROWS = 3
CHUNK = 10_000
# Reading reports progress at most this many times (every 500 rows at least): each report
# is a committed UPDATE of the job, and at one per 500 rows a 100,000-row file waited
# 0.4-1.0 s on 200 of them.
ANALYSE_PROGRESS_REPORTS = 50


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building ~100k small objects.

    The rows hold no reference cycles, but each generation-2 pass walks every
    live object: with GC on, a 100,000-row import spends a third of its time there.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The file as a whole cannot be imported; the message is Chinese and shown to the user.
ImportFileError = SpreadsheetError


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: tuple[str, ...] = ()


# The 18 columns of the company workbook, in its order (DESIGN 1.1), with the
# Chinese and English names other exports of the same workbook have used.
COLUMNS: tuple[Column, ...] = (
    Column("company_id", "公司id", ("公司编号", "客户id", "company id", "companyid", "id")),
    Column("name", "公司名称", ("客户名称", "company name", "company", "name", "customer name")),
    Column("account_type", "账号类型", ("account type", "accounttype")),
    Column("industry", "行业类型", ("行业", "industry", "industry type")),
    Column("erp", "所属ERP", ("erp",)),
    Column("onboarded", "接入时间", ("onboarded", "onboarding", "onboard time", "onboarded at")),
    Column("level", "客户等级", ("等级", "level", "grade", "customer level")),
    Column("sales_owner", "销售负责人", ("销售", "sales owner", "sales", "salesperson")),
    Column("ops_owners", "运营负责人", ("运营", "ops owner", "ops owners", "operations owner")),
    Column("cooperation", "合作状态", ("cooperation status", "cooperation", "status")),
    Column("billing_enabled", "是否结算", ("结算", "billing enabled", "billable", "billing")),
    Column("disabled", "是否停用", ("停用", "disabled", "is disabled")),
    Column("remarks", "备注", ("remarks", "remark", "notes", "note", "comment", "comments")),
    Column("settlement_method", "结算方式", ("settlement method", "settlement", "billing method")),
    Column("single_price", "单层定价", ("单层价格", "single floor price", "single price")),
    Column("multi_price", "多层定价", ("多层价格", "multi floor price", "multi price")),
    Column("consumption_level", "客户消费等级", ("消费等级", "consumption level")),
    Column("monthly_avg_shots", "月均拍摄量", ("monthly avg shots", "monthly average shots")),
)
FIELD_LABELS = {c.field: c.label for c in COLUMNS}
IGNORE = ""


def _header_key(value: Any) -> str:
    text = str(value or "").strip().lower()
    return re.sub(r"[\s_\-（）()：:./]+", "", text)


_ALIAS_TO_FIELD = {
    _header_key(name): c.field for c in COLUMNS for name in (c.label, c.field, *c.aliases)
}


def field_for_label(value: Any) -> str | None:
    """The workbook field a header cell names, by label or alias; None when unknown."""
    if value is None or isinstance(value, int | float):
        return None
    return _ALIAS_TO_FIELD.get(_header_key(value))


# --- reading the file -------------------------------------------------------


@dataclass
class Header:
    row_index: int  # 0-based index of the header row in the sheet
    labels: list[str]
    mapping: dict[int, str]  # column index → field


@dataclass
class Table:
    """One sheet of an uploaded file, with its header found. `rows()` streams from the top."""

    kind: str  # "xlsx" or "csv"
    title: str
    header: Header
    rows: Callable[[], Iterator[tuple]]
    estimated_rows: int | None = None


def header_find(rows: list[tuple]) -> Header | None:
    """The row naming the most known columns, provided it names 公司id and 公司名称."""
    best: Header | None = None
    for index, row in enumerate(rows):
        mapping: dict[int, str] = {}
        for col, cell in enumerate(row):
            found = field_for_label(cell)
            if found and found not in mapping.values():
                mapping[col] = found
        if {"company_id", "name"} <= set(mapping.values()) and (
            best is None or len(mapping) > len(best.mapping)
        ):
            labels = ["" if c is None else str(c).strip() for c in row]
            while labels and not labels[-1]:
                labels.pop()
            best = Header(row_index=index, labels=labels, mapping=mapping)
    return best


def table_open(fileobj: Any, *, filename: str = "") -> Table:
    """Open an uploaded .xlsx or .csv and find its header row; raises ImportFileError."""
    book = spreadsheet_read(fileobj, filename=filename)
    for sheet in book.sheets():
        header = header_find(sheet.rows[:HEADER_SEARCH_ROWS])
        if header is not None:
            return Table(
                kind=book.kind,
                title=sheet.title,
                header=header,
                rows=lambda rows=sheet.rows: iter(rows),
                estimated_rows=len(sheet.rows),
            )
    raise _no_header()


def _no_header() -> ImportFileError:
    return ImportFileError(
        f"未找到表头：前 {HEADER_SEARCH_ROWS} 行中没有同时包含“公司id”和“公司名称”的行。"
        "请使用模板或检查表头名称。"
    )


def series_from_title(title: str) -> str:
    """`房产客户分月用量1225（L）` → "L": the device series the sheet's prices are for."""
    match = re.search(r"[（(]\s*([XNLxnl])\s*[）)]\s*$", title or "")
    return match.group(1).upper() if match else ""


# --- normalising cells ------------------------------------------------------

YES_NO = {"是": True, "否": False, "yes": True, "no": False, "y": True, "n": False}
BILLING = {"是": "yes", "否": "no", "待确认": "pending", "yes": "yes", "no": "no"}
SETTLEMENT = {
    "定价结算": Customer.SettlementMethod.PER_SHOOT,
    "包年套餐": Customer.SettlementMethod.ANNUAL,
    "包年限量套餐": Customer.SettlementMethod.ANNUAL_LIMITED,
    "待确认": Customer.SettlementMethod.PENDING,
}
HALF_YEAR = re.compile(r"^(\d{2}|\d{4})\s*年?\s*(上|下)\s*半年$")
DICTIONARY_FIELDS = {
    "account_type": DictionaryItem.Kind.ACCOUNT_TYPE,
    "industry": DictionaryItem.Kind.INDUSTRY,
    "erp": DictionaryItem.Kind.ERP,
}


def cell_text(value: Any, missing: AbstractSet[str] = MISSING) -> str:
    """A cell as trimmed text, "" when it means "missing"; integral floats lose their `.0`."""
    if type(value) is str:
        text = value.strip()
    elif value is None:
        return ""
    elif isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        text = str(value).strip()
    return "" if text.lower() in missing else text


def parse_int(value: Any) -> int | None:
    """Integers stored as numbers or as text (`"1063"`, `1063.0`, `"１０６３"`); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = cell_text(value)
    if not text:
        return None
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789")).replace(",", "")
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(text.split(".")[0])
    return None


def parse_half_year(text: str) -> tuple[int, int] | None:
    """`25上半年` → (2025, 1); `26年上半年` → (2026, 1); `2025下半年` → (2025, 2)."""
    match = HALF_YEAR.match(text.replace(" ", ""))
    if not match:
        return None
    year = int(match.group(1))
    if year < 100:
        year += 2000
    return year, 1 if match.group(2) == "上" else 2


def split_people(text: str) -> list[str]:
    """` @郭富乾\\n @张随军` → ["郭富乾", "张随军"] (order kept, repeats dropped)."""
    names: list[str] = []
    for part in re.split(r"[\n\r,，、;；]+", text):
        name = part.strip().lstrip("@＠").strip()
        if name and name.lower() not in PERSON_MISSING and name not in names:
            names.append(name)
    return names


# --- analysing rows ---------------------------------------------------------


@dataclass(slots=True)
class RowResult:
    row_number: int  # 1-based row number as Excel shows it
    raw: tuple
    company_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)  # attname → normalised value
    ops_user_ids: list[int] | None = None  # None: cell empty, leave owners alone
    price: tuple[str, str, str] | None = None  # (method_raw, single_raw, multi_raw)
    status: str = ""
    changed: tuple[str, ...] = ()
    price_changed: bool = False
    ops_changed: bool = False
    customer_pk: int | None = None
    previous_status: str = ""  # the stored lifecycle status of an existing customer
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def problems(self) -> str:
        return "；".join(
            [*(f"错误：{e}" for e in self.errors), *(f"警告：{w}" for w in self.warnings)]
        )


class RowStatus:
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    INVALID = "invalid"


STATUS_LABELS = {"new": "新增", "updated": "更新", "unchanged": "未变", "invalid": "无效"}


@dataclass(frozen=True)
class NewDictionaryValue:
    """A dictionary value the file uses that the admin has not defined yet (created on commit)."""

    kind: str
    value: str


@dataclass
class ImportPlan:
    filename: str
    sheet_title: str
    series_code: str
    header: Header
    rows: list[RowResult]
    notes: list[str] = field(default_factory=list)
    # False when no cell named a dictionary value missing from the admin's lists, so the
    # commit need not look for NewDictionaryValue among every row's values.
    new_dictionary_values: bool = True

    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0, "invalid": 0, "warnings": 0}
        key = {"new": "created", "updated": "updated", "unchanged": "unchanged"}
        for row in self.rows:
            counts[key.get(row.status, "invalid")] += 1
            counts["warnings"] += len(row.warnings)
        return counts

    def problem_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors or r.warnings]

    def summary_line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.counts().items())


class _Context:
    """Everything rows are resolved against, loaded once per import."""

    def __init__(self) -> None:
        from accounts.models import User

        by_name: dict[str, list[int]] = {}
        for pk, full_name in (
            User.objects.filter(is_active=True).exclude(full_name="").values_list("pk", "full_name")
        ):
            by_name.setdefault(full_name.strip(), []).append(pk)
        self.users = by_name
        self.dictionary = {
            (kind, value): pk
            for pk, kind, value in DictionaryItem.objects.values_list("pk", "kind", "value")
        }
        self.cooperation = dict(CooperationStatusMapping.objects.values_list("note_text", "status"))
        self.memo: dict[str, dict[Any, Any]] = {}  # field → {cell: outcome}
        self.new_dictionary_values = False  # set once a cell names an undefined value
        self._columns_for: dict[int, str] | None = None
        self._columns: tuple[dict[str, int], list[tuple[int, str, Any, dict]]] = ({}, [])

    def columns(
        self, mapping: dict[int, str]
    ) -> tuple[dict[str, int], list[tuple[int, str, Any, dict]]]:
        """Each field's column, and the memoised fields' (column, field, normaliser, memo),
        worked out once for the mapping every row of an import shares."""
        if mapping is not self._columns_for:
            index = {f: i for i, f in mapping.items()}
            self._columns = (
                index,
                [
                    (index[f], f, normalise, self.memo.setdefault(f, {}))
                    for f, normalise in FIELD_NORMALISERS
                    if f in index
                ],
            )
            self._columns_for = mapping
        return self._columns

    def user(self, name: str) -> tuple[int | None, str]:
        """(user id, "") or (None, why) for a name from a person column."""
        ids = self.users.get(name, [])
        if len(ids) == 1:
            return ids[0], ""
        if ids:
            return None, f"“{name}”对应多个用户，无法确定"
        return None, f"“{name}”未匹配到系统用户"


# A field's normalised value depends only on its cell (and the users, dictionaries
# and cooperation mapping loaded once per import), and most columns repeat a few
# values down 100,000 rows; each (field, cell) is worked out once per import.
# An outcome is (values to set, warnings, extra): extra is the ops owners' user
# ids for 运营负责人 and the trimmed text for 结算方式 (staged with the prices).
_Outcome = tuple[tuple[tuple[str, Any], ...], tuple[str, ...], Any]
MEMO_LIMIT = 50_000  # distinct cells remembered per column


def _dictionary_field(f: str, kind: str) -> Callable[[Any, _Context], _Outcome]:
    def normalise(cell: Any, ctx: _Context) -> _Outcome:
        text = cell_text(cell)
        if not text:
            return (), (), None
        if len(text) > 50:
            return (), (f"{FIELD_LABELS[f]}“{text[:20]}…”超过 50 字，未导入",), None
        pk = ctx.dictionary.get((kind, text))
        if pk is None:
            ctx.new_dictionary_values = True
            return (((f"{f}_id", NewDictionaryValue(kind, text)),), (), None)
        return (((f"{f}_id", pk),), (), None)

    return normalise


def _onboarded(cell: Any, ctx: _Context) -> _Outcome:
    text = cell_text(cell)
    if not text:
        return (), (), None
    period = parse_half_year(text)
    if period is None:
        return (
            (("onboarded_raw", text[:30]),),
            (f"接入时间“{text}”无法识别为半年（如 25上半年），已保留原文",),
            None,
        )
    return (
        (
            ("onboarded_raw", text[:30]),
            ("onboarded_year", period[0]),
            ("onboarded_half", period[1]),
        ),
        (),
        None,
    )


LEVELS = frozenset(Customer.Level.values)
CONSUMPTION_LEVELS = frozenset(Customer.ConsumptionLevel.values)


def _level(cell: Any, ctx: _Context) -> _Outcome:
    level = cell_text(cell, CODE_MISSING).upper()
    if not level:
        return (), (), None
    if level in LEVELS:
        return (("level", level),), (), None
    return (), (f"客户等级“{level}”无效（应为 S/A/B/C/D），未导入",), None


def _sales_owner(cell: Any, ctx: _Context) -> _Outcome:
    sales = split_people(cell_text(cell, PERSON_MISSING))
    if not sales:
        return (), (), None
    user_id, why = ctx.user(sales[0])
    if user_id:
        return (("sales_owner_id", user_id), ("sales_owner_raw", "")), (), None
    return (("sales_owner_raw", sales[0][:50]),), (f"销售负责人{why}，已保留原文",), None


def _ops_owners(cell: Any, ctx: _Context) -> _Outcome:
    names = split_people(cell_text(cell, PERSON_MISSING))
    if not names:
        return (), (), None
    resolved, unresolved, warnings = [], [], []
    for person in names:
        user_id, why = ctx.user(person)
        if user_id:
            resolved.append(user_id)
        else:
            unresolved.append(person)
            warnings.append(f"运营负责人{why}，已保留原文")
    return (("ops_owners_raw", "、".join(unresolved)[:200]),), tuple(warnings), tuple(resolved)


def _cooperation(cell: Any, ctx: _Context) -> _Outcome:
    note = cell_text(cell)
    if not note:
        return (), (), None
    status = ctx.cooperation.get(note) or ctx.cooperation.get(cooperation_key(note))
    if status:
        return (("cooperation_note", note[:200]), ("lifecycle_status", status)), (), None
    return (
        (("cooperation_note", note[:200]),),
        (f"合作状态“{note}”未配置对应的生命周期状态，已保留原文",),
        None,
    )


def _billing_enabled(cell: Any, ctx: _Context) -> _Outcome:
    billing = cell_text(cell)
    if not billing:
        return (), (), None
    if billing.lower() in BILLING:
        return (("billing_enabled", BILLING[billing.lower()]),), (), None
    return (), (f"是否结算“{billing}”无效（应为 是/否/待确认），未导入",), None


def _disabled(cell: Any, ctx: _Context) -> _Outcome:
    disabled = cell_text(cell)
    if not disabled or disabled == "待确认":
        return (), (), None
    if disabled.lower() in YES_NO:
        return (("disabled", YES_NO[disabled.lower()]),), (), None
    return (), (f"是否停用“{disabled}”无效（应为 是/否），未导入",), None


def _settlement_method(cell: Any, ctx: _Context) -> _Outcome:
    method = cell_text(cell, CODE_MISSING)
    if not method:
        return (), (), ""
    if method in SETTLEMENT:
        return (("settlement_method", SETTLEMENT[method]),), (), method
    return (), (f"结算方式“{method}”无法识别，已保留在价格暂存中",), method


def _consumption_level(cell: Any, ctx: _Context) -> _Outcome:
    consumption = cell_text(cell, CODE_MISSING).upper()
    if not consumption:
        return (), (), None
    if consumption in CONSUMPTION_LEVELS:
        return (("consumption_level", consumption),), (), None
    return (), (f"客户消费等级“{consumption}”无效（应为 C1–C6），未导入",), None


def _monthly_avg_shots(cell: Any, ctx: _Context) -> _Outcome:
    text = cell_text(cell)
    if not text:
        return (), (), None
    shots = parse_int(cell)
    if shots is None or shots > 2_147_483_647:
        return (), (f"月均拍摄量“{text}”不是非负整数，未导入",), None
    return (("monthly_avg_shots", shots),), (), None


# In the order their warnings are listed for a row.
FIELD_NORMALISERS: tuple[tuple[str, Callable[[Any, _Context], _Outcome]], ...] = (
    *((f, _dictionary_field(f, kind)) for f, kind in DICTIONARY_FIELDS.items()),
    ("onboarded", _onboarded),
    ("level", _level),
    ("sales_owner", _sales_owner),
    ("ops_owners", _ops_owners),
    ("cooperation", _cooperation),
    ("billing_enabled", _billing_enabled),
    ("disabled", _disabled),
    ("settlement_method", _settlement_method),
    ("consumption_level", _consumption_level),
    ("monthly_avg_shots", _monthly_avg_shots),
)


def _cell_at(raw: tuple, column: int | None) -> Any:
    return raw[column] if column is not None and column < len(raw) else None


def row_normalise(raw: tuple, mapping: dict[int, str], ctx: _Context, row: RowResult) -> None:
    """Fill `row` from one raw workbook row: normalised values, errors and warnings.

    The reader (opcms.spreadsheets, the only source of a Table's rows) has already
    refused any cell over MAX_CELL_CHARS, naming its row.
    """
    width = len(raw)
    index, memoised = ctx.columns(mapping)
    values = row.values

    id_cell = _cell_at(raw, index.get("company_id"))
    company_id = parse_int(id_cell)
    if company_id is None or company_id <= 0 or company_id > 9_223_372_036_854_775_807:
        shown = cell_text(id_cell)
        row.errors.append(f"公司id“{shown}”不是有效的整数" if shown else "缺少公司id")
    else:
        row.company_id = company_id
    name = cell_text(_cell_at(raw, index.get("name")))
    if not name:
        row.errors.append("缺少公司名称")
    elif len(name) > 200:
        row.errors.append("公司名称超过 200 字")
    else:
        values["name"] = name

    method = ""
    for i, f, normalise, memo in memoised:
        if i >= width:
            continue
        cell = raw[i]
        if cell is None or cell == "":
            continue
        # Texts are their own key; other cells carry their type (1, 1.0 and True are equal keys).
        key = cell if type(cell) is str else (type(cell), cell)
        outcome = memo.get(key)
        if outcome is None:
            # One outcome (and so one warning text) for every row with this cell.
            outcome = normalise(cell, ctx)
            if len(memo) < MEMO_LIMIT:
                memo[key] = outcome
        updates, warnings, extra = outcome
        if updates:
            values.update(updates)
        if warnings:
            row.warnings.extend(warnings)
        if extra is not None:
            if f == "ops_owners":
                row.ops_user_ids = list(extra)
            else:
                method = extra

    remarks = cell_text(_cell_at(raw, index.get("remarks")))
    if remarks:
        values["remarks"] = remarks

    single = cell_text(_cell_at(raw, index.get("single_price")))
    multi = cell_text(_cell_at(raw, index.get("multi_price")))
    if method or single or multi:
        row.price = (method[:50], single[:50], multi[:50])


COMPARED = (
    "name",
    "account_type_id",
    "industry_id",
    "erp_id",
    "onboarded_raw",
    "onboarded_year",
    "onboarded_half",
    "level",
    "sales_owner_id",
    "sales_owner_raw",
    "ops_owners_raw",
    "cooperation_note",
    "lifecycle_status",
    "billing_enabled",
    "disabled",
    "remarks",
    "settlement_method",
    "consumption_level",
    "monthly_avg_shots",
)


def import_analyse(
    table: Table,
    *,
    mapping: dict[int, str] | None = None,
    series_code: str = "",
    filename: str = "",
    progress: Progress | None = None,
) -> ImportPlan:
    """Normalise and classify every row of `table`; reads the database, writes nothing."""
    mapping = mapping or table.header.mapping
    mapping = {int(k): v for k, v in mapping.items() if v}
    fields = set(mapping.values())
    if not {"company_id", "name"} <= fields:
        raise ImportFileError("列对应中必须包含“公司id”和“公司名称”。")
    if len(fields) != len(mapping):
        raise ImportFileError("列对应中有字段被选择了多次，请每个字段只对应一列。")
    series_code = series_code or series_from_title(table.title)
    ctx = _Context()
    plan = ImportPlan(
        filename=filename,
        sheet_title=table.title,
        series_code=series_code,
        header=table.header,
        rows=[],
    )
    width = len(table.header.labels)
    estimate = max(table.estimated_rows or 0, 1)
    progress_every = max(500, estimate // ANALYSE_PROGRESS_REPORTS)
    id_col = next(i for i, f in mapping.items() if f == "company_id")
    name_col = next(i for i, f in mapping.items() if f == "name")
    seen_data = False
    physical = 0
    with _gc_paused():
        for index, raw in enumerate(table.rows()):
            physical += 1
            if physical > settings.OPCMS_UPLOAD_MAX_ROWS + HEADER_SEARCH_ROWS:
                raise too_many_rows()
            if index <= table.header.row_index:
                continue
            # The reader already shares one object per distinct short text (opcms.spreadsheets).
            raw = raw[:width]
            if _is_blank(raw, id_col, name_col):
                continue
            # A hint row under the header ("必填", "整数") has text where the id goes.
            if not seen_data and index <= table.header.row_index + MAX_HINT_ROWS:
                if _is_hint(raw[id_col] if id_col < len(raw) else None):
                    plan.notes.append(f"第 {index + 1} 行不是数据行（说明行），已跳过")
                    continue
            seen_data = True
            row = RowResult(row_number=index + 1, raw=raw)
            row_normalise(raw, mapping, ctx, row)
            plan.rows.append(row)
            if progress and physical % progress_every == 0:
                progress(physical, estimate * 2)
        if not plan.rows:
            raise ImportFileError("表头下方没有数据行。")
        if len(plan.rows) > settings.OPCMS_UPLOAD_MAX_ROWS:
            raise too_many_rows()
        if not series_code and any(r.price for r in plan.rows):
            plan.notes.append(
                "未指定设备系列（工作表名中也没有（X）/（N）/（L）），价格仅暂存、不会生成价格方案"
            )
        plan.new_dictionary_values = ctx.new_dictionary_values
        _mark_duplicates(plan.rows)
        _classify(plan, series_code)
        # Every problem is known now; only the error workbook reads the original
        # cells, and only of rows with problems. Letting the others go lets a
        # 100,000-row import free the sheet's tuples once the caller drops the table.
        for row in plan.rows:
            if not (row.errors or row.warnings):
                row.raw = ()
    return plan


def _is_blank_cell(value: Any) -> bool:
    return value is None or (type(value) is str and not value.strip())


def _is_blank(raw: tuple, id_col: int, name_col: int) -> bool:
    """A row with nothing in any cell (a data row has its id or name: checked first)."""
    width = len(raw)
    if (id_col < width and not _is_blank_cell(raw[id_col])) or (
        name_col < width and not _is_blank_cell(raw[name_col])
    ):
        return False
    return all(_is_blank_cell(c) for c in raw)


HINT_WORDS = re.compile(r"[\u4e00-\u9fff]|required|integer|number|example|mandatory", re.I)


def _is_hint(id_cell: Any) -> bool:
    """A hint row under the header says what goes in the id column ("必填，整数") instead of an id."""
    text = cell_text(id_cell)
    return bool(text) and not re.search(r"\d", text) and bool(HINT_WORDS.search(text))


def _mark_duplicates(rows: list[RowResult]) -> None:
    # Counted first, so only the (few) repeated ids and names build lists.
    id_counts = Counter(row.company_id for row in rows if row.company_id is not None)
    repeated_ids = {company_id for company_id, n in id_counts.items() if n > 1}
    del id_counts
    by_id: dict[int, list[RowResult]] = {}
    first_named: dict[str, RowResult] = {}
    for row in rows:
        if row.company_id in repeated_ids:
            by_id.setdefault(row.company_id, []).append(row)
        name = row.values.get("name")
        if name is not None:
            first = first_named.setdefault(name, row)
            if first is not row:
                # Same-named rows are reported once per repeat, pointing at the first
                # occurrence: warning every row of a group about all the others made a
                # pair two warnings and the 15 "普通用户" rows 15 long lists, burying the
                # warnings a clerk acts on (unresolved owners, unreadable values).
                where = f"第 {first.row_number} 行" + (
                    f"（公司id {first.company_id}）" if first.company_id is not None else ""
                )
                row.warnings.append(f"公司名称“{name}”与{where}相同")
    for company_id, dupes in by_id.items():
        numbers = "、".join(str(r.row_number) for r in dupes)
        for row in dupes:
            row.errors.append(
                f"公司id {company_id} 在文件中重复（第 {numbers} 行），均未导入，请核对后保留一行"
            )


def array_literal(values: Iterable[int] | Iterable[str]) -> str:
    """`values` (all int or all str, none None) as a PostgreSQL array literal (`{1,2}`,
    `{"a","b\\"c"}`), for a parameter cast to bigint[] or text[].

    psycopg dumps a list parameter element by element in Python: 0.13 s per 100,000
    ints and 0.22-0.34 s per 100,000 names, against about 0.02 s for either literal.
    """
    values = list(values)
    if values and type(values[0]) is str:
        # Inside double quotes only the backslash and the double quote are special.
        return (
            '{"' + '","'.join([v.replace("\\", "\\\\").replace('"', '\\"') for v in values]) + '"}'
        )
    return "{" + ",".join(map(str, values)) + "}"


def _rows_where_any(sql: str, values: list, *params: Any) -> list[tuple]:
    """Run `sql` whose first parameter is `= ANY(%s::<type>[])` over `values`; the rows.

    One array parameter instead of Django's `__in` list: the client-side cursor
    splices a 10,000-item IN list into the query text, which costs more than the query.
    The array goes as its literal (`array_literal`), so `sql` casts the parameter.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [array_literal(values), *params])
        return cursor.fetchall()


def _classify(plan: ImportPlan, series_code: str) -> None:
    valid = [r for r in plan.rows if not r.errors]
    for row in plan.rows:
        if row.errors:
            row.status = RowStatus.INVALID
    quote = connection.ops.quote_name
    customers = quote(Customer._meta.db_table)
    compared = ", ".join(quote(Customer._meta.get_field(f).column) for f in COMPARED)
    existing_sql = (
        f"SELECT company_id, id, is_deleted, {compared} FROM {customers} "  # noqa: S608
        "WHERE company_id = ANY(%s::bigint[])"
    )
    through = Customer.ops_owners.through._meta.db_table
    ops_sql = (
        f"SELECT customer_id, user_id FROM {quote(through)} WHERE customer_id = ANY(%s::bigint[])"  # noqa: S608
    )
    prices_sql = (
        "SELECT DISTINCT ON (customer_id) customer_id, method_raw, single_raw, multi_raw "  # noqa: S608
        f"FROM {quote(ImportedPrice._meta.db_table)} "
        "WHERE customer_id = ANY(%s::bigint[]) AND series_code = %s "
        "ORDER BY customer_id, imported_at DESC, id DESC"
    )
    namesakes_sql = (
        f"SELECT name, company_id FROM {customers} WHERE name = ANY(%s::text[]) "  # noqa: S608
        "ORDER BY company_id"
    )
    positions = {f: i + 3 for i, f in enumerate(COMPARED)}
    for start in range(0, len(valid), CHUNK):
        chunk = valid[start : start + CHUNK]
        existing = {e[0]: e for e in _rows_where_any(existing_sql, [r.company_id for r in chunk])}
        pks = [e[1] for e in existing.values()]
        ops: dict[int, set[int]] = {}
        prices: dict[int, tuple[str, str, str]] = {}
        if pks:
            for customer_id, user_id in _rows_where_any(ops_sql, pks):
                ops.setdefault(customer_id, set()).add(user_id)
            prices = {p[0]: p[1:] for p in _rows_where_any(prices_sql, pks, series_code)}
        # A new customer named like one already in the archive under another id
        # may be the same company registered twice: worth a clerk's look.
        new_names = list({r.values["name"] for r in chunk if r.company_id not in existing})
        namesakes: dict[str, int] = {}
        if new_names:
            for name, company_id in _rows_where_any(namesakes_sql, new_names):
                namesakes.setdefault(name, company_id)
        for row in chunk:
            old = existing.get(row.company_id)
            if old is None:
                row.status = RowStatus.NEW
                row.price_changed = row.price is not None
                namesake = namesakes.get(row.values["name"])
                if namesake is not None:
                    row.warnings.append(
                        f"公司名称“{row.values['name']}”与已有客户（公司id {namesake}）相同"
                    )
                continue
            row.customer_pk = old[1]
            if old[2]:
                row.warnings.append("该客户已被删除，资料仍会更新但不会恢复")
            row.previous_status = old[positions["lifecycle_status"]]
            row.changed = tuple([f for f, v in row.values.items() if old[positions[f]] != v])
            row.ops_changed = row.ops_user_ids is not None and set(row.ops_user_ids) != ops.get(
                old[1], set()
            )
            row.price_changed = row.price is not None and prices.get(old[1]) != row.price
            dirty = row.changed or row.ops_changed or row.price_changed
            row.status = RowStatus.UPDATED if dirty else RowStatus.UNCHANGED


# --- committing -------------------------------------------------------------


@transaction.atomic
def import_commit(
    *,
    plan: ImportPlan,
    user: Any,
    source: str = "web",
    progress: Progress | None = None,
    job_id: int | None = None,
) -> dict[str, int]:
    """Write every valid row of `plan` in one transaction, in bulk; one audit entry for all.

    Invalid rows are skipped (they are in the plan's problems); any failure
    rolls the whole valid set back. Returns the counts.
    """
    with _gc_paused():
        return _commit(plan=plan, user=user, source=source, progress=progress, job_id=job_id)


def _commit(
    *, plan: ImportPlan, user: Any, source: str, progress: Progress | None, job_id: int | None
) -> dict[str, int]:
    now = timezone.now()
    rows = [r for r in plan.rows if r.status in (RowStatus.NEW, RowStatus.UPDATED)]
    total = len(plan.rows) + len(rows)
    done = len(plan.rows)
    if plan.new_dictionary_values:
        _create_dictionary_values(rows)

    new_rows = [r for r in rows if r.status == RowStatus.NEW]
    for start in range(0, len(new_rows), CHUNK):
        chunk = new_rows[start : start + CHUNK]
        _insert_new(chunk, now)
        done += len(chunk)
        if progress:
            progress(done, total)

    updated_rows = [r for r in rows if r.status == RowStatus.UPDATED and r.changed]
    for start in range(0, len(updated_rows), CHUNK):
        chunk = updated_rows[start : start + CHUNK]
        _update_existing(chunk, now)
        done += len(chunk)
        if progress:
            progress(done, total)

    through = Customer.ops_owners.through
    ops_rows = [
        r
        for r in rows
        if r.ops_user_ids is not None and (r.status == RowStatus.NEW or r.ops_changed)
    ]
    replaced = [r.customer_pk for r in ops_rows if r.status == RowStatus.UPDATED]
    if replaced:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(through._meta.db_table)} "  # noqa: S608
                "WHERE customer_id = ANY(%s)",
                [replaced],
            )
    _copy_rows(
        through._meta.db_table,
        _model_columns(through, ["customer_id", "user_id"]),
        ((r.customer_pk, u) for r in ops_rows for u in r.ops_user_ids),
    )
    _copy_rows(
        ImportedPrice._meta.db_table,
        _model_columns(
            ImportedPrice,
            ["customer_id", "series_code", "method_raw", "single_raw", "multi_raw"]
            + ["row_number", "imported_at", "consumed"],
        ),
        (
            (r.customer_pk, plan.series_code, *r.price, r.row_number, now, False)
            for r in rows
            if r.price_changed and r.price is not None
        ),
    )
    status_changes = _record_lifecycle_changes(plan=plan, rows=rows, user=user, now=now)
    counts = plan.counts()
    _audit(
        plan=plan,
        user=user,
        counts=counts,
        source=source,
        job_id=job_id,
        status_changes=status_changes,
    )
    if progress:
        progress(total, total)
    return counts


def _copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write `rows` (values in the order of `columns`) into `table` by COPY.

    Every bulk write of the import goes this way: Django's bulk_create spends most
    of its time preparing parameters (about 0.4 ms a row), COPY streams tuples.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:  # nothing to write: no statement (and no statement trigger) at all
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:  # noqa: S608
            copy.write_row(first)
            for row in rows:
                copy.write_row(row)


def _model_columns(model: Any, names: Sequence[str]) -> list[str]:
    return [model._meta.get_field(n).column for n in names]


def _insert_new(rows: list[RowResult], now: Any) -> None:
    """Insert new customers through COPY, with pks taken from the table's sequence first.

    Knowing each row's pk before the COPY spares reading them back (one 10,000-id
    lookup per chunk) and lets the COPY carry the id instead of PostgreSQL's default.
    """
    pk = Customer._meta.pk
    fields = [f for f in Customer._meta.concrete_fields if not f.primary_key]
    # Columns the file does not set take the model default, prepared once.
    template = Customer(created_at=now, updated_at=now)
    defaults = {
        f.attname: f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields
    }
    names = [f.attname for f in fields]
    pick = operator.itemgetter(*names)
    with connection.cursor() as cursor:
        pks = ids_reserve(cursor, Customer._meta.db_table, pk.column, len(rows))
    for row, customer_pk in zip(rows, pks, strict=True):
        row.customer_pk = customer_pk
    _copy_rows(
        Customer._meta.db_table,
        [pk.column, *(f.column for f in fields)],
        (
            (
                row.customer_pk,
                *pick(
                    {
                        **defaults,
                        **row.values,
                        "company_id": row.company_id,
                        "name_pinyin": name_sort_key(row.values["name"]),
                    }
                ),
            )
            for row in rows
        ),
    )


def _update_existing(rows: list[RowResult], now: Any) -> None:
    """Write the changed fields of existing customers; an empty cell never blanks a value.

    The rows go through COPY into a temporary table and one
    UPDATE … FROM: Django's bulk_update builds a CASE per field with a WHEN per
    row, which costs about 2 ms a row at 20,000 rows. Imported values are never
    NULL (a missing cell is absent), so COALESCE keeps what the file leaves empty.
    """
    fields = sorted({f for r in rows for f in r.changed})
    if "name" in fields:
        # The pinyin sort key follows the name on this path as on every other.
        fields.append("name_pinyin")
    model_fields = [Customer._meta.get_field(f) for f in fields]
    quote = connection.ops.quote_name
    table = quote(Customer._meta.db_table)
    columns = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in model_fields)
    assignments = ", ".join(
        f"{quote(f.column)} = COALESCE(t.{quote(f.column)}, c.{quote(f.column)})"
        for f in model_fields
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE import_changes (id bigint PRIMARY KEY, {columns}) ON COMMIT DROP"
        )  # noqa: S608
        _copy_rows(
            "import_changes",
            ["id", *(f.column for f in model_fields)],
            (_changed_values(row, fields) for row in rows),
        )
        cursor.execute(
            f"UPDATE {table} AS c SET {assignments}, {quote('updated_at')} = %s "  # noqa: S608
            "FROM import_changes AS t WHERE c.id = t.id",
            [now],
        )
        cursor.execute("DROP TABLE import_changes")


def _changed_values(row: RowResult, fields: list[str]) -> list[Any]:
    """The row's values for `fields` (None where the row leaves a field as it is)."""
    values = [row.customer_pk, *map(row.values.get, fields)]
    if "name" in row.changed:
        values[-1] = name_sort_key(row.values["name"])  # fields ends with name_pinyin
    return values


def _record_lifecycle_changes(
    *, plan: ImportPlan, rows: list[RowResult], user: Any, now: Any
) -> int:
    """History rows for the statuses the import set, as `customer_change_status` keeps them.

    The workbook is the company's record, so its 合作状态 mapping sets the status
    directly (no transition check); each new customer gets its initial status
    (from blank) and each existing one whose status changed a from → to row.
    Written in bulk; the import's single audit entry counts them.
    """
    actor_id = user.pk if getattr(user, "is_authenticated", False) else None
    source = plan.filename or plan.sheet_title
    written = 0

    def changes() -> Iterator[tuple]:
        nonlocal written
        for row in rows:
            if row.status == RowStatus.NEW:
                from_status = ""
                reason = f"导入新建客户（{source} 第 {row.row_number} 行）"
            elif "lifecycle_status" in row.changed:
                from_status = row.previous_status
                reason = f"导入更新（{source} 第 {row.row_number} 行）"
            else:
                continue
            note = row.values.get("cooperation_note")
            if note and "lifecycle_status" in row.values:
                reason += f"：合作状态“{note}”"
            to_status = row.values.get("lifecycle_status", LifecycleStatus.POTENTIAL)
            written += 1
            yield (row.customer_pk, from_status, str(to_status), reason, actor_id, now)

    # A 100,000-row first import writes 100,000 history rows: COPY, streamed, as for customers.
    names = ["customer_id", "from_status", "to_status", "reason", "changed_by_id", "changed_at"]
    _copy_rows(LifecycleChange._meta.db_table, _model_columns(LifecycleChange, names), changes())
    return written


def _create_dictionary_values(rows: list[RowResult]) -> None:
    wanted = {v for r in rows for v in r.values.values() if isinstance(v, NewDictionaryValue)}
    if not wanted:
        return
    DictionaryItem.objects.bulk_create(
        [DictionaryItem(kind=w.kind, value=w.value) for w in wanted], ignore_conflicts=True
    )
    ids = {
        (kind, value): pk
        for pk, kind, value in DictionaryItem.objects.filter(
            value__in={w.value for w in wanted}
        ).values_list("pk", "kind", "value")
    }
    for row in rows:
        for f, v in row.values.items():
            if isinstance(v, NewDictionaryValue):
                row.values[f] = ids[(v.kind, v.value)]


def _audit(
    *,
    plan: ImportPlan,
    user: Any,
    counts: dict[str, int],
    source: str,
    job_id: int | None,
    status_changes: int = 0,
) -> None:
    # auditlog does not see bulk writes, so the import records itself: one
    # entry for the whole file, with its counts and who ran it.
    from auditlog.models import LogEntry

    actor = user if getattr(user, "is_authenticated", False) else None
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Customer),
        object_pk="import",
        object_repr=f"客户导入：{plan.filename or plan.sheet_title}",
        action=LogEntry.Action.UPDATE,
        changes={},
        changes_text=(
            f"新增 {counts['created']}，更新 {counts['updated']}，未变 {counts['unchanged']}，"
            f"无效 {counts['invalid']}，警告 {counts['warnings']}，"
            f"生命周期状态记录 {status_changes}"
        ),
        actor=actor,
        additional_data={
            "kind": "customer_import",
            "source": source,
            "file": plan.filename,
            "sheet": plan.sheet_title,
            "series": plan.series_code,
            "job": job_id,
            "lifecycle_changes": status_changes,
            **counts,
        },
    )


# --- outputs ---------------------------------------------------------------


def error_workbook(plan: ImportPlan) -> bytes:
    """The rows with problems as an .xlsx: the original cells plus a Chinese 问题 column."""
    import xlsxwriter

    # constant_memory streams rows through a temporary file: an error workbook
    # can have as many rows as the upload.
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/errors.xlsx"
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "tmpdir": tmp,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        sheet = workbook.add_worksheet("导入问题")
        bold = workbook.add_format({"bold": True})
        width = len(plan.header.labels)
        sheet.set_column(width + 1, width + 1, 80)
        sheet.write_row(0, 0, [*plan.header.labels, "行号", "问题"], bold)
        line = 1
        for row in plan.problem_rows():
            for col, value in enumerate(row.raw[:width]):
                if value is None:
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(line, col, value)
                else:
                    sheet.write_string(line, col, str(value))
            sheet.write_number(line, width, row.row_number)
            sheet.write_string(line, width + 1, row.problems)
            line += 1
        workbook.close()
        with open(path, "rb") as fileobj:
            return fileobj.read()


def template_workbook() -> bytes:
    """An empty workbook with the 18 headers and one example row, for the 下载模板 link."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("客户导入模板（L）")
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7"})
    sheet.write_row(0, 0, [c.label for c in COLUMNS], bold)
    example = [
        1001,
        "示例房产经纪有限公司",
        "正式",
        "房产经纪",
        "",
        "25上半年",
        "A",
        "王珂",
        " @钱多",
        "正常使用",
        "是",
        "否",
        "",
        "定价结算",
        12.5,
        "14+（F-1）*10",
        "C3",
        20,
    ]
    for col, value in enumerate(example):
        if isinstance(value, int | float):
            sheet.write_number(1, col, value)
        elif value:
            sheet.write_string(1, col, value)
    sheet.set_column(0, len(COLUMNS) - 1, 14)
    workbook.close()
    return buffer.getvalue()


def plan_preview(plan: ImportPlan, *, limit: int = 50) -> dict[str, Any]:
    """A JSON-able summary for the preview page: counts, notes and the first problems."""
    problems = [
        {
            "row": r.row_number,
            "company_id": r.company_id,
            "name": r.values.get("name", ""),
            "status": STATUS_LABELS.get(r.status, r.status),
            "problems": r.problems,
        }
        # Errors first: they are what stops rows from importing.
        for r in sorted(plan.problem_rows(), key=lambda r: (not r.errors, r.row_number))[:limit]
    ]
    return {
        "counts": plan.counts(),
        "notes": plan.notes,
        "problems": problems,
        "sheet": plan.sheet_title,
        "series": plan.series_code,
        "rows": len(plan.rows),
    }
