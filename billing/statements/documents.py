"""Customer statements (对账单): balances and entries for a period, on screen, as .xlsx and as PDF."""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from billing.models import ZERO, Bill, Payment
from customers.exports import TextWriter
from customers.models import Customer, CustomerGroup
from customers.selectors import group_members

logger = logging.getLogger(__name__)


class EntryKind:
    BILL = "bill"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"

    LABELS = {BILL: "账单", CREDIT_NOTE: "冲正单", PAYMENT: "收款"}


@dataclass(frozen=True)
class StatementItem:
    """One document on the customer's account: + raises what is owed, − lowers it."""

    on: date
    kind: str
    reference: str
    description: str
    amount: Decimal  # bills positive, credit notes negative, payments negative


@dataclass(frozen=True)
class StatementEntry:
    item: StatementItem
    balance: Decimal

    @property
    def kind_label(self) -> str:
        return EntryKind.LABELS[self.item.kind]

    @property
    def debit(self) -> Decimal | None:
        return self.item.amount if self.item.amount > 0 else None

    @property
    def credit(self) -> Decimal | None:
        return -self.item.amount if self.item.amount < 0 else None


@dataclass(frozen=True)
class Statement:
    customer: Customer
    date_from: date
    date_to: date
    opening: Decimal
    billed: Decimal
    credited: Decimal
    paid: Decimal
    closing: Decimal
    entries: list[StatementEntry] = field(default_factory=list)


_ORDER = {EntryKind.BILL: 0, EntryKind.CREDIT_NOTE: 1, EntryKind.PAYMENT: 2}


def statement_compute(
    *, customer: Customer, items: list[StatementItem], date_from: date, date_to: date
) -> Statement:
    """Pure: split the customer's documents into opening balance, period movements and closing.

    opening + billed − credited − paid = closing, by construction and by test.
    """
    opening = billed = credited = paid = ZERO
    entries: list[StatementEntry] = []
    in_period = []
    for item in items:
        if item.on < date_from:
            opening += item.amount
        elif item.on <= date_to:
            in_period.append(item)
    running = opening
    for item in sorted(in_period, key=lambda i: (i.on, _ORDER[i.kind], i.reference)):
        if item.kind == EntryKind.BILL:
            billed += item.amount
        elif item.kind == EntryKind.CREDIT_NOTE:
            credited -= item.amount
        else:
            paid -= item.amount
        running += item.amount
        entries.append(StatementEntry(item=item, balance=running))
    return Statement(
        customer=customer,
        date_from=date_from,
        date_to=date_to,
        opening=opening,
        billed=billed,
        credited=credited,
        paid=paid,
        closing=opening + billed - credited - paid,
        entries=entries,
    )


def statement_items(*, customer: Customer, date_to: date) -> list[StatementItem]:
    """Every issued document of the customer up to `date_to`.

    A bill counts in its billing month (账期); a credit note on the day it was
    issued, so a statement already sent for an earlier month never changes; a
    payment on the day it was received. Reversed bills stay: their credit note
    nets them to zero. Drafts are not on the account yet.
    """
    items: list[StatementItem] = []
    bills = Bill.objects.filter(customer=customer).exclude(status=Bill.Status.DRAFT)
    for bill in bills.select_related("reverses"):
        if bill.kind == Bill.Kind.BILL:
            items.append(
                StatementItem(
                    on=bill.period,
                    kind=EntryKind.BILL,
                    reference=bill.number,
                    description=f"{bill.period:%Y-%m} 账单",
                    amount=bill.total,
                )
            )
        else:
            on = timezone.localdate(bill.issued_at) if bill.issued_at else bill.period
            reversed_number = bill.reverses.number if bill.reverses else ""
            items.append(
                StatementItem(
                    on=on,
                    kind=EntryKind.CREDIT_NOTE,
                    reference=bill.number,
                    description=f"冲正 {reversed_number}：{bill.reason}",
                    amount=bill.total,
                )
            )
    for payment in Payment.objects.filter(customer=customer, received_on__lte=date_to):
        method = payment.get_method_display()
        ref = f" {payment.bank_ref}" if payment.bank_ref else ""
        items.append(
            StatementItem(
                on=payment.received_on,
                kind=EntryKind.PAYMENT,
                reference=payment.bank_ref or f"收款#{payment.pk}",
                description=f"{method}{ref}" + (f"（{payment.payer}）" if payment.payer else ""),
                amount=-payment.amount,
            )
        )
    return [i for i in items if i.on <= date_to]


def statement_build(*, customer: Customer, date_from: date, date_to: date) -> Statement:
    items = statement_items(customer=customer, date_to=date_to)
    return statement_compute(customer=customer, items=items, date_from=date_from, date_to=date_to)


# --- .xlsx ------------------------------------------------------------------------

XLSX_HEADERS = ["日期", "类型", "单号", "摘要", "应收", "冲正/收款", "余额"]


def statement_xlsx(statement: Statement) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = workbook.add_worksheet("对账单")
    bold = workbook.add_format({"bold": True})
    title = workbook.add_format({"bold": True, "font_size": 14})
    money = workbook.add_format({"num_format": "¥#,##0.00"})
    money_bold = workbook.add_format({"num_format": "¥#,##0.00", "bold": True})
    header = workbook.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1})
    cells = TextWriter(workbook)  # references and descriptions may start with "="
    customer = statement.customer
    sheet.write_string(0, 0, f"对账单 · {customer.name}", title)
    sheet.write_string(1, 0, f"公司id：{customer.company_id}")
    sheet.write_string(
        2, 0, f"期间：{statement.date_from:%Y-%m-%d} 至 {statement.date_to:%Y-%m-%d}"
    )
    summary = [
        ("期初余额", statement.opening),
        ("本期应收", statement.billed),
        ("本期冲正", statement.credited),
        ("本期收款", statement.paid),
        ("期末余额", statement.closing),
    ]
    for offset, (label, value) in enumerate(summary):
        sheet.write_string(4 + offset, 0, label, bold)
        sheet.write_number(4 + offset, 1, float(value), money_bold)
    row = 10
    for col, text in enumerate(XLSX_HEADERS):
        sheet.write_string(row, col, text, header)
    row += 1
    sheet.write_string(row, 3, "期初余额")
    sheet.write_number(row, 6, float(statement.opening), money)
    for entry in statement.entries:
        row += 1
        sheet.write_string(row, 0, f"{entry.item.on:%Y-%m-%d}")
        sheet.write_string(row, 1, entry.kind_label)
        cells.write(sheet, row, 2, entry.item.reference)
        cells.write(sheet, row, 3, entry.item.description)
        if entry.debit is not None:
            sheet.write_number(row, 4, float(entry.debit), money)
        if entry.credit is not None:
            sheet.write_number(row, 5, float(entry.credit), money)
        sheet.write_number(row, 6, float(entry.balance), money)
    row += 1
    sheet.write_string(row, 3, "期末余额", bold)
    sheet.write_number(row, 6, float(statement.closing), money_bold)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 8)
    sheet.set_column(2, 2, 24)
    sheet.set_column(3, 3, 40)
    sheet.set_column(4, 6, 14)
    workbook.close()
    return buffer.getvalue()


# --- PDF ----------------------------------------------------------------------------

CJK_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_SOURCE_INDEX = 2  # Noto Sans CJK SC inside the collection
CJK_SUBSET_FAMILY = "OPCMS CJK"
_font_lock = threading.Lock()


def _gb2312_text() -> str:
    """ASCII, full-width forms and every GB2312 character: what statements are written in."""
    chars = [chr(c) for c in range(0x20, 0x7F)]
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    chars.extend("¥￥—–…·“”‘’、。，：；！？（）【】《》")
    return "".join(chars)


def cjk_subset_font() -> Path | None:
    """The subset CJK font, built once and cached under var/fonts.

    The full Noto CJK collection makes WeasyPrint embed and scan ~19 MB per
    document (10+ s a page); a GB2312 subset takes about a second. Characters
    outside the subset fall back to the full font named second in the CSS.
    """
    target = Path(settings.VAR_DIR) / "fonts" / "opcms-cjk-gb2312.otf"
    if target.exists():
        return target
    if not CJK_SOURCE.exists():
        return None
    with _font_lock:
        if target.exists():
            return target
        from fontTools import subset
        from fontTools.ttLib import TTFont

        logging.getLogger("fontTools").setLevel(logging.WARNING)

        font = TTFont(str(CJK_SOURCE), fontNumber=CJK_SOURCE_INDEX)
        options = subset.Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.layout_features = ["*"]
        subsetter = subset.Subsetter(options=options)
        subsetter.populate(text=_gb2312_text())
        subsetter.subset(font)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        font.save(str(tmp))
        tmp.replace(target)
        logger.info("built CJK subset font %s", target)
    return target


def statement_pdf_document(statement: Statement):
    """The laid-out WeasyPrint document (pages known); `statement_pdf` writes it."""
    from weasyprint import HTML

    font = cjk_subset_font()
    html = render_to_string(
        "billing/statement_pdf.html",
        {
            "statement": statement,
            "font_url": font.as_uri() if font else "",
            "font_family": CJK_SUBSET_FAMILY,
            "generated_on": timezone.localdate(),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).render()


def statement_pdf(statement: Statement) -> bytes:
    return statement_pdf_document(statement).write_pdf()


# --- the group statement (集团对账单) ---------------------------------------------------


@dataclass
class GroupStatement:
    """One statement per member in the caller's scope; the group's figures are their sums."""

    group: CustomerGroup
    date_from: date
    date_to: date
    members: list[Statement] = field(default_factory=list)

    def _sum(self, name: str) -> Decimal:
        return sum((getattr(s, name) for s in self.members), Decimal("0"))

    @property
    def opening(self) -> Decimal:
        return self._sum("opening")

    @property
    def billed(self) -> Decimal:
        return self._sum("billed")

    @property
    def credited(self) -> Decimal:
        return self._sum("credited")

    @property
    def paid(self) -> Decimal:
        return self._sum("paid")

    @property
    def closing(self) -> Decimal:
        return self._sum("closing")


def group_statement_build(
    *, user: Any, group: CustomerGroup, date_from: date, date_to: date
) -> GroupStatement:
    """Opening balance, bills per member, payments (the head office's included) and closing.

    Built from each member's own statement, so a member's lines are exactly those of its
    statement; members outside the caller's scope are left out of the lines and the totals.
    """
    result = GroupStatement(group=group, date_from=date_from, date_to=date_to)
    members = group_members(user=user, group=group, include_deleted=True)
    for member in members.order_by("company_id", "is_deleted", "pk"):
        result.members.append(
            statement_build(customer=member, date_from=date_from, date_to=date_to)
        )
    return result


GROUP_HEADERS = ["公司id", "客户", "期初余额", "本期应收", "本期冲正", "本期收款", "期末余额"]
_FIGURES = ("opening", "billed", "credited", "paid", "closing")


def group_statement_xlsx(statement: GroupStatement) -> bytes:
    """The group statement: totals, one row per member, then every member's entries."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = workbook.add_worksheet("集团对账单")
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "¥#,##0.00"})
    money_bold = workbook.add_format({"num_format": "¥#,##0.00", "bold": True})
    sheet.write_string(0, 0, f"集团对账单 · {statement.group.name}", bold)
    sheet.write_string(
        1, 0, f"期间：{statement.date_from:%Y-%m-%d} 至 {statement.date_to:%Y-%m-%d}"
    )
    sheet.write_row(3, 0, GROUP_HEADERS, bold)
    row = 3
    for member in statement.members:
        row += 1
        sheet.write_string(row, 0, str(member.customer.company_id))
        sheet.write_string(row, 1, member.customer.name)
        for col, name in enumerate(_FIGURES, 2):
            sheet.write_number(row, col, float(getattr(member, name)), money)
    row += 1
    sheet.write_string(row, 1, "合计", bold)
    for col, name in enumerate(_FIGURES, 2):
        sheet.write_number(row, col, float(getattr(statement, name)), money_bold)
    entries = workbook.add_worksheet("明细")
    entries.write_row(0, 0, ["公司id", "客户", *XLSX_HEADERS], bold)
    line = 0
    for member in statement.members:
        for entry in member.entries:
            line += 1
            entries.write_string(line, 0, str(member.customer.company_id))
            entries.write_string(line, 1, member.customer.name)
            entries.write_string(line, 2, f"{entry.item.on:%Y-%m-%d}")
            entries.write_string(line, 3, entry.kind_label)
            entries.write_string(line, 4, entry.item.reference)
            entries.write_string(line, 5, entry.item.description)
            if entry.debit is not None:
                entries.write_number(line, 6, float(entry.debit), money)
            if entry.credit is not None:
                entries.write_number(line, 7, float(entry.credit), money)
            entries.write_number(line, 8, float(entry.balance), money)
    workbook.close()
    return buffer.getvalue()


def group_statement_pdf(statement: GroupStatement) -> bytes:
    from weasyprint import HTML

    font = cjk_subset_font()
    html = render_to_string(
        "billing/group_statement_pdf.html",
        {
            "statement": statement,
            "font_url": font.as_uri() if font else "",
            "font_family": CJK_SUBSET_FAMILY,
            "generated_on": timezone.localdate(),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
