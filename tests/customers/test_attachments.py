"""Q&A attachments: size, extension and content checks before anything is stored."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from customers.models import IssueAttachment
from customers.qa.attachments import attachment_check
from customers.qa.services import issue_attachment_add
from tests.factories import QualityIssueFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64


def docx(payload: bytes = b"<w:document/>", extra: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", payload)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def check(data: bytes, name: str) -> str:
    return attachment_check(io.BytesIO(data), name=name, size=len(data))


@pytest.mark.parametrize(
    ("data", "name"),
    [(PNG, "截图.png"), (PDF, "合同.PDF"), (docx(), "说明.docx"), ("中文说明".encode(), "a.txt")],
)
def test_accepted_files(data, name):
    assert check(data, name) == name.rsplit(".", 1)[1].lower()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 60, "invoice.exe", "不支持的附件类型"),
        (PNG, "noextension", "不支持的附件类型"),
        (b"MZ\x90\x00" + b"\x00" * 60, "photo.png", "内容与扩展名"),
        (PDF, "report.docx", "内容与扩展名"),
        (b"MZ\x90\x00binary\x00", "notes.txt", "不是文本文件"),
        (docx(extra={"word/vbaProject.bin": b"macro"}), "macro.docx", "包含宏"),
        (docx(b"\x00" * 5_000_000), "bomb.docx", "压缩炸弹"),
        (b"PK\x03\x04broken", "broken.xlsx", "已损坏"),
        (b"", "empty.pdf", "空文件"),
    ],
)
def test_refused_files_say_why_in_chinese(data, name, message):
    with pytest.raises(ValidationError) as exc:
        check(data, name)

    assert message in exc.value.messages[0]


@override_settings(OPCMS_UPLOAD_MAX_BYTES=1024)
def test_size_limit_comes_from_the_upload_setting():
    with pytest.raises(ValidationError, match="超过上限"):
        check(PDF + b"x" * 1024, "big.pdf")

    assert check(PDF, "small.pdf") == "pdf"


@pytest.mark.django_db
def test_a_refused_file_stores_nothing(ops_user):
    issue = QualityIssueFactory()
    data = b"MZ\x90\x00" + b"\x00" * 60

    with pytest.raises(ValidationError):
        issue_attachment_add(
            user=ops_user, issue=issue, fileobj=io.BytesIO(data), name="x.png", size=len(data)
        )

    assert not IssueAttachment.objects.exists()


@pytest.mark.django_db
def test_stored_name_is_ours_not_the_uploaders(ops_user):
    issue = QualityIssueFactory()

    attachment = issue_attachment_add(
        user=ops_user,
        issue=issue,
        fileobj=io.BytesIO(PNG),
        name="../../etc/截图.png",
        size=len(PNG),
    )

    assert attachment.original_name == "截图.png"
    assert ".." not in attachment.file.name and attachment.file.name.endswith(".png")
    assert attachment.file.read() == PNG
