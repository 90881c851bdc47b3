"""Checks on a Q&A attachment before it is stored: size, extension and the file's own bytes.

Attachments are not spreadsheets, so opcms.spreadsheets does not read them; they
share its one size limit (settings.OPCMS_UPLOAD_MAX_BYTES, `max_bytes()` and
`limit_text()`) and its hostile-file rules: the name's extension must match what
the bytes are, and Office files are zips, checked for bombs and encryption.
"""

from __future__ import annotations

import zipfile
from typing import IO

from django.core.exceptions import ValidationError

from opcms.spreadsheets import MAX_UNZIPPED_BYTES, limit_text, max_bytes

# Extension → the magic-byte prefixes its content must start with.
ZIP = (b"PK\x03\x04",)
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # legacy .doc/.xls, which may carry macros
ALLOWED: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
    "docx": ZIP,
    "xlsx": ZIP,
    "pptx": ZIP,
    "txt": (),
    "csv": (),
}
# Office files expand a lot, but a ratio far beyond this is a zip bomb.
MAX_ZIP_RATIO = 100
TEXT_SAMPLE = 8192


def attachment_check(fileobj: IO[bytes], *, name: str, size: int) -> str:
    """Raise ValidationError (in Chinese) unless the file is acceptable; return its extension."""
    if size <= 0:
        raise ValidationError("附件是空文件")
    if size > max_bytes():
        raise ValidationError(f"附件“{name}”大小 {size / 1048576:.1f} MB，超过上限 {limit_text()}")
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED:
        allowed = "、".join(sorted(ALLOWED))
        raise ValidationError(f"不支持的附件类型“.{ext or '无扩展名'}”，可上传：{allowed}")
    fileobj.seek(0)
    head = fileobj.read(TEXT_SAMPLE)
    fileobj.seek(0)
    prefixes = ALLOWED[ext]
    if prefixes and not any(head.startswith(p) for p in prefixes):
        raise ValidationError(f"附件“{name}”的内容与扩展名 .{ext} 不符，已拒绝")
    if ext == "webp" and head[8:12] != b"WEBP":
        raise ValidationError(f"附件“{name}”的内容与扩展名 .{ext} 不符，已拒绝")
    if not prefixes:
        _check_text(head, name)
    if prefixes is ZIP:
        _check_zip(fileobj, name=name, size=size)
    return ext


def _check_text(head: bytes, name: str) -> None:
    # Plain text must not be a disguised binary (executables, archives, OLE documents).
    if b"\x00" in head or any(head.startswith(p) for p in (*ZIP, *OLE, b"MZ", b"\x7fELF")):
        raise ValidationError(f"附件“{name}”不是文本文件，已拒绝")


def _check_zip(fileobj: IO[bytes], *, name: str, size: int) -> None:
    try:
        with zipfile.ZipFile(fileobj) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ValidationError(f"附件“{name}”已损坏，无法打开") from exc
    finally:
        fileobj.seek(0)
    if any(info.flag_bits & 0x1 for info in infos):
        raise ValidationError(f"附件“{name}”已加密，请去掉密码后再上传")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNZIPPED_BYTES or unpacked > size * MAX_ZIP_RATIO:
        raise ValidationError(f"附件“{name}”解压后过大（疑似压缩炸弹），已拒绝")
    if any(i.filename.lower().endswith("vbaproject.bin") for i in infos):
        raise ValidationError(f"附件“{name}”包含宏，已拒绝")
