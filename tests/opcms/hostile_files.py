"""Hostile upload files, built as plain bytes (no database): bombs, containers, broken zips."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from functools import cache

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@cache
def zip_bomb(megabytes: int = 7) -> bytes:
    """A workbook-shaped zip of about `megabytes` MB whose sheets inflate ~1000x.

    The 100 MB sheet is compressed once and its deflate stream written under many
    names by hand, so building a 7 MB bomb (several GB inflated) takes a fraction of a second.
    """
    # One 1 MB block compressed with a full flush does not depend on what came before,
    # so its bytes repeated 100 times are a valid deflate stream of 100 MB.
    chunk = b"<c>0</c>" * (1024 * 128)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    deflated = block * 100 + compressor.flush()
    inflated = len(chunk) * 100
    crc = 0
    for _ in range(100):
        crc = zlib.crc32(chunk, crc)
    members = [("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>")]
    out = io.BytesIO()
    central = []

    def write(name: str, method: int, data: bytes, size: int, crc32: int) -> None:
        offset = out.tell()
        encoded = name.encode()
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc32, len(data), size, len(encoded), 0
        )
        out.write(header + encoded + data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0,
                crc32,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )

    for name, data in members:
        write(name, 0, data, len(data), zlib.crc32(data))
    for index in range(max(1, megabytes * 1024 * 1024 // len(deflated))):
        write(f"xl/worksheets/sheet{index + 1}.xml", 8, deflated, inflated, crc)
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), start, 0
        )
    )
    return out.getvalue()


def without_content_types(data: bytes) -> bytes:
    """The same workbook with `[Content_Types].xml` left out of the zip."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "[Content_Types].xml":
                target.writestr(info, source.read(info.filename))
    return buffer.getvalue()


def encrypted() -> bytes:
    """What Excel writes for a password-protected workbook: OLE with an EncryptionInfo stream."""
    return OLE + b"\x00" * 64 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64


def legacy_xls() -> bytes:
    return OLE + b"\x00" * 512
