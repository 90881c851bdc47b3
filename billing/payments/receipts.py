"""Import of bank receipts: parse a workbook, suggest matches, then record and allocate atomically."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Job
from accounts.services import job_attach_file, job_create, job_enqueue, job_run
from billing.bills.selectors import OPEN_STATUSES
from billing.bills.services import _audited, _bill_status_for
from billing.models import Bill, Payment, PaymentAllocation
from billing.money import format_money, to_money
from billing.payments import services
from billing.schedules import reminders
from customers.selectors import scoped_customers
from opcms.spreadsheets import SpreadsheetError, spreadsheet_read

RECEIPT_JOB_KIND = "receipt_import"
# The file limits are the one upload reader's (opcms/spreadsheets.py); this cap is the
# confirm's: about 36 ms a row, so one file stays a job of a few minutes.
MAX_ROWS = 5000
MAX_AMOUNT = Decimal("1e12")  # DecimalField(max_digits=14, decimal_places=2)
MAX_COMPANY_ID = 2**63 - 1  # BigIntegerField

# Header aliases (lower-cased, spaces removed) → field.
HEADERS = {
    "date": ("收款日期", "日期", "交易日期", "到账日期", "date"),
    "amount": ("金额", "收款金额", "交易金额", "amount"),
    "payer": ("付款人", "付款方", "对方户名", "付款单位", "payer"),
    "reference": ("流水号", "银行流水号", "交易流水号", "参考号", "reference"),
    "company_id": ("公司id", "公司ID", "company_id"),
    "bill_number": ("账单号", "bill_number"),
}
COLUMN_LABELS = {
    "date": "收款日期",
    "amount": "金额",
    "payer": "付款人",
    "reference": "流水号",
    "company_id": "公司id",
    "bill_number": "账单号",
}


@dataclass
class ReceiptRow:
    row_number: int
    raw: list[str]
    received_on: date | None = None
    amount: Decimal | None = None
    payer: str = ""
    reference: str = ""
    company_id: int | None = None
    bill_number: str = ""
    customer_id: int | None = None
    customer_name: str = ""
    bill_id: int | None = None
    matched_by: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class ReceiptPreview:
    headers: list[str]
    rows: list[ReceiptRow]

    @property
    def errors(self) -> list[ReceiptRow]:
        return [r for r in self.rows if r.errors]

    @property
    def total(self) -> Decimal:
        return sum((r.amount or Decimal(0) for r in self.rows), Decimal("0.00"))


def _normalise(header: Any) -> str:
    return str(header or "").strip().replace(" ", "").lower()


def _read_table(content: bytes, filename: str) -> list[tuple]:
    """The first sheet's rows, through the one upload reader and its limits."""
    try:
        for sheet in spreadsheet_read(content, filename=filename).sheets():
            return sheet.rows
    except SpreadsheetError as exc:
        raise ValidationError(str(exc)) from None
    return []


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    raise ValueError(f"日期“{text}”无法识别，应为 2025-10-31")


def _parse_amount(value: Any) -> Decimal:
    text = str(value if value is not None else "").strip().replace(",", "").replace("¥", "")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValueError(f"金额“{text}”不是数字") from None
    # NaN, Infinity and 1e30 are numbers to Decimal but not amounts a bank sends.
    if not amount.is_finite():
        raise ValueError(f"金额“{text}”不是数字")
    if amount >= MAX_AMOUNT:
        raise ValueError(f"金额“{text}”超出范围")
    amount = to_money(amount)
    if amount <= 0:
        raise ValueError("金额必须大于 0")
    return amount


def _parse_company_id(text: str) -> int | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    if not 0 < number <= MAX_COMPANY_ID:
        return None
    return int(number)


def receipts_preview(*, content: bytes, filename: str, user: Any) -> ReceiptPreview:
    """Parse and validate every row and suggest a customer (and bill) for it. Writes nothing.

    Matching order: bill number, then company id, then payer name equal to the
    customer name; all inside the user's scope. A row that matches nothing, or a
    reference already recorded (or repeated in the file), is an error.
    """
    table = [r for r in _read_table(content, filename) if any(c not in (None, "") for c in r)]
    if not table:
        raise ValidationError("文件是空的")
    headers = [str(h or "").strip() for h in table[0]]
    index: dict[str, int] = {}
    for col, header in enumerate(headers):
        for key, aliases in HEADERS.items():
            if _normalise(header) in {_normalise(a) for a in aliases}:
                index.setdefault(key, col)
    missing = [COLUMN_LABELS[k] for k in ("date", "amount", "payer", "reference") if k not in index]
    if missing:
        raise ValidationError(f"缺少列：{'、'.join(missing)}（第 1 行应为表头）")
    if len(table) - 1 > MAX_ROWS:
        raise ValidationError(f"一次最多导入 {MAX_ROWS} 行")

    customers = scoped_customers(user)
    rows: list[ReceiptRow] = []
    for offset, values in enumerate(table[1:], start=2):

        def cell(key: str, values=values) -> Any:
            col = index.get(key)
            return values[col] if col is not None and col < len(values) else None

        row = ReceiptRow(row_number=offset, raw=["" if v is None else str(v) for v in values])
        for key, parser, attr in (
            ("date", _parse_date, "received_on"),
            ("amount", _parse_amount, "amount"),
        ):
            try:
                setattr(row, attr, parser(cell(key)))
            except ValueError as exc:
                row.errors.append(f"第 {offset} 行“{COLUMN_LABELS[key]}”列：{exc}")
        row.payer = str(cell("payer") or "").strip()
        row.reference = str(cell("reference") or "").strip()
        row.bill_number = str(cell("bill_number") or "").strip()
        company = str(cell("company_id") or "").strip()
        if company:
            row.company_id = _parse_company_id(company)
            if row.company_id is None:
                row.errors.append(f"第 {offset} 行“公司id”列：“{company}”不是有效的公司id")
        if not row.reference:
            row.errors.append(f"第 {offset} 行“流水号”列：不能为空")
        rows.append(row)

    _match(rows, customers)
    _check_references(rows)
    return ReceiptPreview(headers=headers, rows=rows)


def _match(rows: list[ReceiptRow], customers) -> None:
    numbers = {r.bill_number for r in rows if r.bill_number}
    bills = {
        b.number: b
        for b in Bill.objects.filter(number__in=numbers, customer__in=customers).select_related(
            "customer"
        )
    }
    company_ids = {r.company_id for r in rows if r.company_id}
    by_company = {c.company_id: c for c in customers.filter(company_id__in=company_ids)}
    payers = {r.payer for r in rows if r.payer}
    by_name: dict[str, list] = {}
    for c in customers.filter(name__in=payers):
        by_name.setdefault(c.name, []).append(c)
    for row in rows:
        bill = bills.get(row.bill_number) if row.bill_number else None
        if bill is not None:
            if bill.kind != Bill.Kind.BILL or bill.status not in OPEN_STATUSES:
                row.errors.append(
                    f"第 {row.row_number} 行“账单号”列：账单 {bill.number} 状态为“{bill.get_status_display()}”，不能核销"
                )
            row.customer_id, row.customer_name = bill.customer_id, bill.customer.name
            row.bill_id, row.matched_by = bill.pk, "账单号"
            continue
        if row.bill_number:
            row.errors.append(
                f"第 {row.row_number} 行“账单号”列：{row.bill_number} 不存在或不在你的客户范围内"
            )
            continue
        customer = by_company.get(row.company_id) if row.company_id else None
        if customer is not None:
            row.customer_id, row.customer_name, row.matched_by = (
                customer.pk,
                customer.name,
                "公司id",
            )
            continue
        if row.company_id:
            row.errors.append(
                f"第 {row.row_number} 行“公司id”列：{row.company_id} 不存在或不在你的客户范围内"
            )
            continue
        named = by_name.get(row.payer, [])
        if len(named) == 1:
            row.customer_id, row.customer_name, row.matched_by = (
                named[0].pk,
                named[0].name,
                "付款人名称",
            )
        elif len(named) > 1:
            row.errors.append(
                f"第 {row.row_number} 行“付款人”列：有多个客户叫“{row.payer}”，请填写公司id"
            )
        else:
            row.errors.append(
                f"第 {row.row_number} 行：找不到客户（付款人“{row.payer}”），请填写公司id或账单号"
            )


def _check_references(rows: list[ReceiptRow]) -> None:
    refs = [r.reference for r in rows if r.reference]
    recorded = dict(
        Payment.objects.filter(method=Payment.Method.BANK, bank_ref__in=refs).values_list(
            "bank_ref", "pk"
        )
    )
    seen: dict[str, int] = {}
    for row in rows:
        if not row.reference:
            continue
        if row.reference in recorded:
            row.errors.append(
                f"第 {row.row_number} 行“流水号”列：{row.reference} 已登记过（收款 #{recorded[row.reference]}）"
            )
        elif row.reference in seen:
            row.errors.append(
                f"第 {row.row_number} 行“流水号”列：与第 {seen[row.reference]} 行重复"
            )
        else:
            seen[row.reference] = row.row_number


def receipts_confirm(*, content: bytes, filename: str, user: Any, progress=None) -> dict:
    """Record and allocate every row in one transaction; any error leaves nothing behind.

    A row with a bill number goes to that bill (up to its balance), any other to
    the customer's open bills oldest first; the rest stays as the customer's credit.
    Idempotency keys derive from the file, so confirming the same file twice
    records each payment once.
    """
    preview = receipts_preview(content=content, filename=filename, user=user)
    if preview.errors:
        raise ValidationError(f"文件有 {len(preview.errors)} 行错误，请下载错误明细修改后重新上传")
    digest = hashlib.sha256(content).hexdigest()[:40]
    rows = preview.rows
    customers = {
        c.pk: c
        for c in scoped_customers(user)
        .filter(pk__in={r.customer_id for r in rows})
        .select_related("sales_owner")  # the notifications name the sales owner
    }
    by_bill = {r.bill_id for r in rows if r.bill_id}
    oldest_first = {r.customer_id for r in rows if not r.bill_id}
    with transaction.atomic(), _audited(user):
        # One lock for the whole file, in id order (as payment_allocate locks): the bills it
        # names and the open bills of the customers paid oldest first. Balances are then
        # read under the lock and worked out in memory, row by row in file order.
        bills = {
            b.pk: b
            for b in Bill.objects.select_for_update()
            .filter(
                Q(pk__in=by_bill)
                | Q(customer_id__in=oldest_first, kind=Bill.Kind.BILL, status__in=OPEN_STATUSES)
            )
            .order_by("pk")
        }
        for bill in bills.values():
            bill.customer = customers.get(bill.customer_id) or bill.customer
        open_bills: dict[int, list[Bill]] = {}
        for bill in sorted(
            (b for b in bills.values() if b.kind == Bill.Kind.BILL and b.status in OPEN_STATUSES),
            key=lambda b: (b.due_date is None, b.due_date or date.min, b.period, b.pk),
        ):
            open_bills.setdefault(bill.customer_id, []).append(bill)
        # A reference committed by someone else since the preview: the same error as by hand.
        taken = Payment.objects.select_related("customer").filter(
            method=Payment.Method.BANK, bank_ref__in=[r.reference for r in rows]
        )
        for first in taken[:1]:
            raise services.DuplicateBankRefError(first)

        payments: list[Payment] = []
        planned: list[tuple[int, Bill, Decimal]] = []  # (payment index, bill, amount)
        for index, row in enumerate(rows):
            amount = to_money(row.amount)
            remaining = amount
            if row.bill_id:
                bill = bills[row.bill_id]
                take = min(bill.balance, remaining)
                if take > 0 and (bill.kind != Bill.Kind.BILL or bill.status not in OPEN_STATUSES):
                    raise ValidationError(
                        f"账单 {bill.number} 状态为“{bill.get_status_display()}”，不能核销"
                    )
                targets = [(bill, take)] if take > 0 else []
            else:
                targets = []
                for bill in open_bills.get(row.customer_id, []):
                    if remaining <= 0:
                        break
                    take = min(bill.balance, remaining)
                    if take > 0:
                        targets.append((bill, take))
                        remaining -= take
            for bill, take in targets:
                bill.amount_paid += take
                bill.status = _bill_status_for(bill)
                planned.append((index, bill, take))
            payments.append(
                Payment(
                    customer=customers[row.customer_id],
                    amount=amount,
                    allocated=sum((t for _, t in targets), Decimal("0.00")),
                    received_on=row.received_on,
                    method=Payment.Method.BANK,
                    bank_ref=row.reference,
                    payer=row.payer,
                    note=f"银行收款导入 {filename} 第 {row.row_number} 行",
                    idempotency_key=f"rcpt-{digest}-{row.row_number}",
                    created_by=user,
                )
            )
        try:
            with transaction.atomic():
                Payment.objects.bulk_create(payments, batch_size=1000)
        except IntegrityError:
            # Lost a race with an import of the same file or reference a moment ago.
            raise ValidationError(
                "文件中的收款刚刚已被登记（可能重复提交），请刷新后查看"
            ) from None
        allocations = PaymentAllocation.objects.bulk_create(
            [
                PaymentAllocation(payment=payments[i], bill=bill, amount=take, created_by=user)
                for i, bill, take in planned
            ],
            batch_size=1000,
        )
        touched = list({bill.pk: bill for _, bill, _ in planned}.values())
        now = timezone.now()
        for bill in touched:
            bill.updated_at = now
        # One UPDATE … FROM unnest(): bulk_update's CASE per row grows with the square of the
        # rows (6.5 s for 300 bills under load, cProfile).
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Bill._meta.db_table} AS b
                SET amount_paid = v.amount_paid, status = v.status, updated_at = %s
                FROM unnest(%s::bigint[], %s::numeric[], %s::text[]) AS v(id, amount_paid, status)
                WHERE b.id = v.id
                """,  # noqa: S608 - the table name is the model's
                [
                    now,
                    [b.pk for b in touched],
                    [b.amount_paid for b in touched],
                    [b.status for b in touched],
                ],
            )
        _audit_receipts(user=user, filename=filename, payments=payments, bills=touched)
        # The notifications and webhook events in bulk: the lookups once for the file, not
        # per payment (45.9 s of a 1,000-row file with sales owners and a subscriber).
        for start in range(0, len(payments), 500):
            reminders.payments_recorded_notify(payments=payments[start : start + 500])
            if progress:
                progress(min(start + 500, len(payments)), len(payments))
        reminders.allocations_notify(allocations=allocations)
    allocated_sum = sum((a.amount for a in allocations), Decimal("0.00"))
    return {
        "收款笔数": len(payments),
        "核销笔数": len(allocations),
        "核销金额": format_money(allocated_sum),
        "留作余额": format_money(preview.total - allocated_sum),
    }


def _audit_receipts(
    *, user: Any, filename: str, payments: list[Payment], bills: list[Bill]
) -> None:
    """django-auditlog does not see bulk writes: one entry per payment and per bill paid."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    now = timezone.now()
    note = f"银行收款导入 {filename}"
    actor = user if getattr(user, "is_authenticated", False) else None
    entries = [
        LogEntry(
            content_type=ContentType.objects.get_for_model(Payment),
            object_pk=str(p.pk),
            object_id=p.pk,
            object_repr=str(p)[:200],
            action=LogEntry.Action.CREATE,
            changes={
                "amount": ["None", str(p.amount)],
                "allocated": ["None", str(p.allocated)],
                "bank_ref": ["None", p.bank_ref],
                "customer": ["None", str(p.customer_id)],
            },
            changes_text=note,
            actor=actor,
            timestamp=now,
            additional_data={"batch": note},
        )
        for p in payments
    ]
    entries += [
        LogEntry(
            content_type=ContentType.objects.get_for_model(Bill),
            object_pk=str(b.pk),
            object_id=b.pk,
            object_repr=str(b)[:200],
            action=LogEntry.Action.UPDATE,
            changes={"amount_paid": ["", str(b.amount_paid)], "status": ["", b.status]},
            changes_text=note,
            actor=actor,
            timestamp=now,
            additional_data={"batch": note},
        )
        for b in bills
    ]
    LogEntry.objects.bulk_create(entries, batch_size=2000)


def receipts_error_workbook(preview: ReceiptPreview) -> bytes:
    """The uploaded rows with an error column, for the user to fix and upload again."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet("错误明细")
    bold = workbook.add_format({"bold": True})
    red = workbook.add_format({"font_color": "#C00000"})
    sheet.write_row(0, 0, ["行号", *preview.headers, "错误说明"], bold)
    for out, row in enumerate(preview.errors, start=1):
        sheet.write_number(out, 0, row.row_number)
        for col, value in enumerate(row.raw, start=1):
            sheet.write_string(out, col, value)
        sheet.write_string(out, len(preview.headers) + 1, "；".join(row.errors), red)
    workbook.close()
    return buffer.getvalue()


# --- running the confirm as a background job -------------------------------------------
# Written in bulk (one lock, bulk inserts, audit entries in one insert); the notifications
# stay one per payment. A bank file still runs as a Job with progress.


def receipts_upload(*, user: Any, name: str, content: bytes) -> Job:
    """Keep the uploaded file on a Job: preview and confirm both read it from there."""
    from django.urls import reverse

    return job_create(
        kind=RECEIPT_JOB_KIND,
        created_by=user,
        title=f"导入银行收款 {name}",
        params={"filename": name, "next_url": reverse("billing:payment-list")},
        input_name=name,
        input_bytes=content,
    )


def receipts_job_preview(*, job: Job, user: Any) -> ReceiptPreview:
    """Preview the job's file; the first time it has errors, attach the error workbook."""
    with job.input_file.open("rb") as fh:
        content = fh.read()
    preview = receipts_preview(content=content, filename=job.params["filename"], user=user)
    if preview.errors and not job.error_file:
        job_attach_file(
            job=job,
            field="error_file",
            name="银行收款导入错误明细.xlsx",
            content=receipts_error_workbook(preview),
        )
    return preview


def receipts_import_start(*, job: Job, user: Any) -> Job:
    """Queue the confirmed import once; a second click on 确认导入 queues nothing."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.params.get("confirmed"):
            return job
        job.params = {**job.params, "confirmed": True, "confirmed_by": user.pk}
        job.save(update_fields=["params"])
        from billing.tasks import receipt_import_task  # tasks import this module

        job_enqueue(job=job, task=receipt_import_task)
    return job


def receipts_import_run(*, job_id: int) -> Job:
    def work(job: Job, progress) -> dict:
        with job.input_file.open("rb") as fh:
            content = fh.read()
        return receipts_confirm(
            content=content, filename=job.params["filename"], user=job.created_by, progress=progress
        )

    return job_run(job_id=job_id, work=work)
