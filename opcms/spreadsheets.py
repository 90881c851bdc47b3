"""The one reader of uploaded spreadsheets (.xlsx and .csv) with the one set of limits.

Every upload (customers, usage, bank receipts) passes through `spreadsheet_read`,
which refuses hostile files before any XML is parsed: the size limit from
settings, a zip-bomb check on the archive's declared sizes and ratios, encrypted
or legacy .xls containers, a zip that is not a workbook. Workbooks are read with
python-calamine (about 7x faster than openpyxl); openpyxl stays for writing.
Every refusal is a `SpreadsheetError` whose message a clerk can read.
"""

from __future__ import annotations

import csv
import ctypes
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings

# Real workbooks compress ~5-20x; a bomb compresses ~1000x. Below 1 MB the ratio
# does not matter (a tiny sheet of repeated values compresses well too).
MAX_ZIP_RATIO = 120
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_CELL_CHARS = 32_767  # Excel's own limit: a longer cell was not written by Excel
MAX_SHEETS = 20
EXTENSIONS = (".xlsx", ".xlsm", ".csv", ".txt")
ACCEPT = ".xlsx,.csv"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read; the message is Chinese and shown to the user."""


@dataclass
class Sheet:
    """One sheet: `rows[0]` is the sheet's first row (workbook row 1); empty cells are ""."""

    title: str
    rows: list[tuple]


@dataclass
class Spreadsheet:
    kind: str  # "xlsx" or "csv"
    _sheets: Iterator[Sheet]

    def sheets(self) -> Iterator[Sheet]:
        """The sheets in workbook order, each parsed only when reached."""
        return self._sheets


def max_bytes() -> int:
    return settings.OPCMS_UPLOAD_MAX_BYTES


def max_rows() -> int:
    return settings.OPCMS_UPLOAD_MAX_ROWS


def too_many_rows() -> SpreadsheetError:
    return SpreadsheetError(f"文件超过 {max_rows()} 行上限，请拆分后再导入。")


def spreadsheet_read(source: Any, *, filename: str = "") -> Spreadsheet:
    """Check and open an uploaded .xlsx or .csv (bytes or a binary file object)."""
    data = source if isinstance(source, bytes) else _read_limited(source)
    if len(data) > max_bytes():
        raise _too_big()
    if not data:
        raise SpreadsheetError("文件是空的。")
    kind = _sniff(data, filename)
    if kind == "csv":
        return Spreadsheet("csv", iter([Sheet(filename.rsplit("/", 1)[-1], _csv_rows(data))]))
    _check_zip(data)
    return Spreadsheet("xlsx", _xlsx_sheets(data))


def limit_text() -> str:
    """The size limit as a clerk reads it: `20 MB` (or KB below a megabyte)."""
    limit = max_bytes()
    if limit >= 1024 * 1024:
        return f"{limit // (1024 * 1024)} MB"
    return f"{max(limit // 1024, 1)} KB"


def _too_big() -> SpreadsheetError:
    return SpreadsheetError(f"文件超过 {limit_text()} 上限，请拆分后再导入。")


def _read_limited(fileobj: Any) -> bytes:
    data = fileobj.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise _too_big()
    return data


def _sniff(data: bytes, filename: str) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == OLE_MAGIC:
        # An OLE container: either a legacy .xls or an encrypted .xlsx (Excel
        # stores password-protected workbooks as OLE with an EncryptionInfo stream).
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise SpreadsheetError(
                "工作簿设有密码保护，请在 Excel 中取消密码后另存为 .xlsx 再导入。"
            )
        raise SpreadsheetError("不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 后再导入。")
    if filename.lower().endswith((".csv", ".txt")):
        return "csv"
    raise SpreadsheetError("文件不是 Excel 工作簿（.xlsx）或 CSV 文件，请检查后重新上传。")


def _check_zip(data: bytes) -> None:
    """Refuse zip bombs from the archive's declared sizes, before any XML is parsed.

    A zip reader never inflates a member beyond its declared size, so checking the
    declared sizes and ratios bounds what the parser can be made to read.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SpreadsheetError("文件已损坏或不是 Excel 工作簿（.xlsx）。") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SpreadsheetError("工作簿内部文件过多，疑似恶意文件，已拒绝。")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise SpreadsheetError("文件不是 Excel 工作簿（.xlsx）：缺少工作簿内容，可能已损坏。")
    if any(i.flag_bits & 0x1 for i in infos):
        raise SpreadsheetError("工作簿设有密码保护，请在 Excel 中取消密码后另存为 .xlsx 再导入。")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > MAX_ZIP_RATIO:
            raise SpreadsheetError("工作簿解压后体积异常（压缩比过高），疑似压缩炸弹，已拒绝。")
    if total > MAX_UNZIPPED_BYTES:
        raise SpreadsheetError(
            f"工作簿解压后超过 {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB，已拒绝，请拆分后再导入。"
        )


# Texts up to this length are kept as one object per distinct value: a 100,000-row
# sheet repeats `#N/A`, `正式`, the same owners… hundreds of thousands of times, and
# the reader would otherwise hold a new string for each cell.
SHARED_TEXT_CHARS = 60


def _checked_rows(rows: Iterator[list], location: str) -> list[tuple]:
    """The rows as tuples: integral numbers as int, over-long cells refused, short texts shared."""
    limit = max_rows()
    out: list[tuple] = []
    append = out.append
    shared: dict[str, str] = {}
    share = shared.setdefault
    for index, row in enumerate(rows):
        if index > limit:
            raise too_many_rows()
        cells = []
        for value in row:
            kind = type(value)
            if kind is str:
                if len(value) <= SHARED_TEXT_CHARS:
                    value = share(value, value)
                elif len(value) > MAX_CELL_CHARS:
                    raise SpreadsheetError(
                        f"{location}第 {index + 1} 行：有单元格超过 {MAX_CELL_CHARS} 个字符，"
                        "不是正常的表格内容。"
                    )
            elif kind is float and value.is_integer() and abs(value) < 1e15:
                # calamine gives every number as float; integral ones become int, as
                # openpyxl gave them, so ids and references do not turn into "1063.0".
                value = int(value)
            cells.append(value)
        append(tuple(cells))
    return out


def _xlsx_sheets(data: bytes) -> Iterator[Sheet]:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError as exc:
        raise SpreadsheetError(
            "工作簿设有密码保护，请在 Excel 中取消密码后另存为 .xlsx 再导入。"
        ) from exc
    except Exception as exc:  # calamine raises several types for a broken file
        raise SpreadsheetError("无法读取工作簿：文件已损坏或不是 .xlsx 格式。") from exc
    del data  # calamine has its own copy
    worksheets = [
        (i, m.name)
        for i, m in enumerate(workbook.sheets_metadata)
        if m.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    worksheets = worksheets[:MAX_SHEETS]
    for index, title in worksheets:
        try:
            sheet = workbook.get_sheet_by_index(index)
        except Exception as exc:
            raise SpreadsheetError("无法读取工作簿：文件已损坏或不是 .xlsx 格式。") from exc
        if index == worksheets[-1][0]:
            # The sheet holds its own cells: the workbook's copy of the file and its
            # shared strings can go before the rows become Python objects.
            workbook.close()
            _release_freed_memory()
        # calamine ignores the <dimension> tag (which may lie) and measures the cells;
        # the height is known before any row becomes a Python object.
        end = sheet.end
        if end is not None and end[0] >= max_rows() + 1:
            raise too_many_rows()
        rows = _checked_rows(sheet.iter_rows(), f"工作表“{title}”")
        del sheet
        _release_freed_memory()
        yield Sheet(title, rows)


def _release_freed_memory() -> None:
    """Hand the parsed sheet's freed memory back to the system (glibc only; a no-op elsewhere).

    calamine builds the whole sheet in native memory, one small allocation per cell;
    once the rows are Python tuples it is freed, but glibc keeps the fragmented heap
    resident, so a 100,000-row import would carry ~60 MB it no longer uses to its end.
    """
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def _csv_rows(data: bytes) -> list[tuple]:
    if b"\x00" in data:
        raise SpreadsheetError("CSV 文件含有二进制内容，不是有效的文本表格。")
    # Chinese Excel saves CSV as GBK; gb18030 is its superset.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetError("无法识别 CSV 文件的编码，请在 Excel 中另存为“CSV UTF-8”后再导入。")
    try:
        return _checked_rows(csv.reader(io.StringIO(text, newline="")), "")
    except csv.Error as exc:
        raise SpreadsheetError(f"CSV 文件格式错误：{exc}") from exc


class SpreadsheetFileField(forms.FileField):
    """The upload field of every import: .xlsx or .csv, within the size limit.

    Refusing by size here answers before the file is read; `spreadsheet_read`
    checks again for callers that do not come through a form (commands, jobs).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            f"支持 .xlsx 和 .csv（UTF-8 或 GBK），不超过 {limit_text()}。",
        )
        kwargs.setdefault(
            "widget", forms.ClearableFileInput(attrs={"class": "form-control", "accept": ACCEPT})
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload:
            if upload.size > max_bytes():
                raise forms.ValidationError(_too_big().args[0])
            if not upload.name.lower().endswith(EXTENSIONS):
                raise forms.ValidationError("只支持 .xlsx 或 .csv 文件。")
        return upload
