"""Views of payments, allocations (核销), bill issue/reversal and statements: thin adapters."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from accounts.roles import can_manage_billing
from accounts.selectors import jobs_visible_to
from customers.selectors import parse_id, scoped_customers, search_term

from . import receipts, reconciliation, statements
from .forms_payments import (
    AllocationForm,
    IssuePeriodForm,
    ManualLineForm,
    PaymentForm,
    ReasonForm,
    ReceiptImportForm,
    StatementForm,
)
from .models import Bill, Payment
from .selectors import (
    bills_open_for_customer,
    scoped_allocations,
    scoped_bills,
    scoped_payments,
)


def _require_manage(user) -> None:
    if not can_manage_billing(user):
        raise PermissionDenied("只有运营和管理员可以出账、冲正、登记和核销收款")


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


# --- payments --------------------------------------------------------------------


PAYMENT_SORTS = {"date": "received_on", "amount": "amount", "customer": "customer__company_id"}


@login_required
def payment_list(request):
    qs = scoped_payments(request.user)
    q = search_term(request.GET.get("q"))
    if q:
        cond = Q(customer__name__icontains=q) | Q(bank_ref__icontains=q) | Q(payer__icontains=q)
        if (number := parse_id(q)) is not None:
            cond |= Q(customer__company_id=number)
        qs = qs.filter(cond)
    if request.GET.get("open") == "1":
        qs = qs.filter(allocated__lt=F("amount"))
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") in PAYMENT_SORTS:
        field = PAYMENT_SORTS[sort.lstrip("-")]
        qs = qs.order_by(f"-{field}" if sort.startswith("-") else field, "-pk")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    context = {"page": page, "q": q, "sort": sort, "can_manage": can_manage_billing(request.user)}
    template = "billing/payment_list.html#table" if request.htmx else "billing/payment_list.html"
    return render(request, template, context)


@login_required
def payment_create(request):
    _require_manage(request.user)
    customers = scoped_customers(request.user)
    initial = {}
    if request.GET.get("customer"):
        initial["customer"] = request.GET["customer"]
    form = PaymentForm(request.POST or None, customers=customers, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = reconciliation.payment_record(user=request.user, **data)
        except reconciliation.DuplicateBankRefError as exc:
            url = reverse("billing:payment-detail", args=[exc.existing.pk])
            form.add_error(
                "bank_ref",
                format_html('{} <a href="{}">查看已登记的收款</a>', exc.messages[0], url),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已登记收款 ¥{payment.amount:,.2f}，请核销到账单")
            return redirect("billing:payment-detail", pk=payment.pk)
    return render(
        request,
        "billing/payment_form.html",
        {"form": form, "customer_options": _customer_options(request.user)},
    )


def _customer_options(user):
    """Suggestions for the 公司id inputs (a datalist); the field still resolves inside the scope."""
    return scoped_customers(user).values("company_id", "name").order_by("company_id")[:1000]


@login_required
def payment_detail(request, pk: int):
    payment = get_object_or_404(scoped_payments(request.user), pk=pk)
    can_manage = can_manage_billing(request.user)
    bills = list(bills_open_for_customer(payment.customer)) if can_manage else []
    form = AllocationForm(bills=bills)
    return render(request, "billing/payment_detail.html", _payment_context(request, payment, form))


def _payment_context(request, payment: Payment, form: AllocationForm) -> dict:
    return {
        "payment": payment,
        "form": form,
        "allocations": payment.allocations.select_related("bill", "created_by", "undone_by"),
        "can_manage": can_manage_billing(request.user),
        "credit": reconciliation.customer_credit(payment.customer),
    }


@login_required
@require_POST
def payment_allocate(request, pk: int):
    _require_manage(request.user)
    payment = get_object_or_404(scoped_payments(request.user), pk=pk)
    form = AllocationForm(request.POST, bills=list(bills_open_for_customer(payment.customer)))
    if form.is_valid():
        try:
            created = reconciliation.payment_allocate(
                user=request.user, payment=payment, allocations=form.allocations()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已核销 {len(created)} 张账单")
            return redirect("billing:payment-detail", pk=payment.pk)
    payment.refresh_from_db()
    return render(
        request, "billing/payment_detail.html", _payment_context(request, payment, form), status=400
    )


@login_required
@require_POST
def payment_allocate_oldest(request, pk: int):
    _require_manage(request.user)
    payment = get_object_or_404(scoped_payments(request.user), pk=pk)
    created = reconciliation.payment_allocate_oldest_first(user=request.user, payment=payment)
    if created:
        messages.success(request, f"已按账龄从早到晚核销 {len(created)} 张账单")
    else:
        messages.info(request, "没有可核销的账单，或收款已全部核销")
    return redirect("billing:payment-detail", pk=payment.pk)


@login_required
@require_POST
def allocation_undo(request, pk: int):
    _require_manage(request.user)
    allocation = get_object_or_404(scoped_allocations(request.user), pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "撤销核销需要填写原因")
    else:
        try:
            reconciliation.allocation_undo(
                user=request.user, allocation=allocation, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request, f"已撤销核销 {allocation.bill.number} ¥{allocation.amount:,.2f}"
            )
    if request.POST.get("back") == "bill":
        return redirect("billing:bill-detail", pk=allocation.bill_id)
    return redirect("billing:payment-detail", pk=allocation.payment_id)


# --- bills: lifecycle ----------------------------------------------------------------


@login_required
def bill_reconcile(request, pk: int):
    """The former reconciliation page of a bill, merged into `billing:bill-detail`."""
    return redirect("billing:bill-detail", pk=pk)


def _bill_action(request, pk: int, action) -> HttpResponse:
    _require_manage(request.user)
    bill = get_object_or_404(scoped_bills(request.user), pk=pk)
    try:
        message = action(bill)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, message)
    return redirect("billing:bill-detail", pk=bill.pk)


@login_required
@require_POST
def bill_issue(request, pk: int):
    def action(bill):
        bill = reconciliation.bill_issue(user=request.user, bill=bill)
        return f"账单 {bill.number} 已出账，到期日 {bill.due_date:%Y-%m-%d}"

    return _bill_action(request, pk, action)


@login_required
@require_POST
def bill_reverse(request, pk: int):
    form = ReasonForm(request.POST)

    def action(bill):
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        note = reconciliation.bill_reverse(user=request.user, bill=bill, reason=reason)
        return f"账单 {bill.number} 已冲正，冲正单 {note.number}；可重新生成并出账更正后的账单"

    return _bill_action(request, pk, action)


@login_required
@require_POST
def bill_apply_credit(request, pk: int):
    def action(bill):
        created = reconciliation.bill_apply_credit(user=request.user, bill=bill)
        total = sum(a.amount for a in created)
        return f"已用客户余额核销 ¥{total:,.2f}（{len(created)} 笔收款）"

    return _bill_action(request, pk, action)


@login_required
@require_POST
def bill_add_line(request, pk: int):
    form = ManualLineForm(request.POST)

    def action(bill):
        if not form.is_valid():
            raise ValidationError("请填写金额和调整原因")
        line = reconciliation.bill_add_manual_line(
            user=request.user, bill=bill, **form.cleaned_data
        )
        return f"已添加手工调整 ¥{line.amount:,.2f}"

    return _bill_action(request, pk, action)


@login_required
def bills_issue_period(request):
    _require_manage(request.user)
    form = IssuePeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        period = form.cleaned_data["period"]
        try:
            issued = reconciliation.bills_issue_for_period(
                user=request.user, period=period, customers=scoped_customers(request.user)
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"{period:%Y-%m} 共出账 {len(issued)} 张草稿账单")
            return redirect("billing:payment-list")
    drafts = scoped_bills(request.user).filter(status=Bill.Status.DRAFT, kind=Bill.Kind.BILL)
    return render(request, "billing/bill_issue_period.html", {"form": form, "drafts": drafts[:200]})


# --- statements ------------------------------------------------------------------------


def _statement_from_request(request):
    form = StatementForm(request.GET or None, customers=scoped_customers(request.user))
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    statement = statements.statement_build(
        customer=data["customer"], date_from=data["date_from"], date_to=data["date_to"]
    )
    return form, statement


@login_required
def statement(request):
    form, result = _statement_from_request(request)
    return render(
        request,
        "billing/statement_detail.html",
        {
            "form": form,
            "statement": result,
            "query": request.GET.urlencode(),
            "customer_options": _customer_options(request.user),
        },
    )


def _statement_filename(result, ext: str) -> str:
    return (
        f"对账单_{result.customer.company_id}_{result.date_from:%Y%m}-{result.date_to:%Y%m}.{ext}"
    )


@login_required
def statement_xlsx(request):
    form, result = _statement_from_request(request)
    if result is None:
        if "customer" in form.errors:
            raise Http404("客户不存在或不在你的客户范围内")
        return render(request, "billing/statement_detail.html", {"form": form}, status=400)
    response = HttpResponse(
        statements.statement_xlsx(result),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _statement_filename(result, "xlsx")
    )
    return response


@login_required
def statement_pdf(request):
    form, result = _statement_from_request(request)
    if result is None:
        if "customer" in form.errors:
            raise Http404("客户不存在或不在你的客户范围内")
        return render(request, "billing/statement_detail.html", {"form": form}, status=400)
    response = HttpResponse(statements.statement_pdf(result), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, _statement_filename(result, "pdf")
    )
    return response


# --- bank receipt import -------------------------------------------------------------

RECEIPT_JOB_KIND = receipts.RECEIPT_JOB_KIND


@login_required
def receipt_import(request):
    """Step 1: upload the bank file; it is kept on a Job until confirmed."""
    _require_manage(request.user)
    form = ReceiptImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = receipts.receipts_upload(user=request.user, name=upload.name, content=upload.read())
        return redirect("billing:receipt-preview", pk=job.pk)
    return render(request, "billing/payment_import.html", {"form": form})


@login_required
def receipt_preview(request, pk: int):
    """Step 2: suggested matches and errors; POST confirms and queues the import job."""
    _require_manage(request.user)
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind=RECEIPT_JOB_KIND), pk=pk)
    if request.method == "POST":
        receipts.receipts_import_start(job=job, user=request.user)
        return redirect("accounts:job-detail", pk=job.pk)
    context = {"form": ReceiptImportForm(), "job": job}
    try:
        context["preview"] = receipts.receipts_job_preview(job=job, user=request.user)
    except ValidationError as exc:
        context["file_error"] = _error_text(exc)
    return render(request, "billing/payment_import.html", context)
