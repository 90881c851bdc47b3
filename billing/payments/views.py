"""Pages of payments: list, record, allocate (核销), undo, and the bank-receipt import."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts.roles import can_manage_billing
from accounts.selectors import jobs_visible_to
from accounts.tables import RequestConfig
from billing.bills.forms import ReasonForm
from billing.bills.selectors import bills_open_for_payer
from billing.models import Payment
from billing.money import format_money
from billing.payments import receipts, services
from billing.payments.filters import PaymentFilter
from billing.payments.forms import AllocationForm, PaymentForm, ReceiptImportForm
from billing.payments.selectors import company_id_options, scoped_allocations, scoped_payments
from billing.payments.tables import PER_PAGE, PaymentTable
from customers.selectors import scoped_customers


def _require_manage(user) -> None:
    if not can_manage_billing(user):
        raise PermissionDenied("只有运营和管理员可以出账、冲正、登记和核销收款")


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


# --- payments --------------------------------------------------------------------


@login_required
def payment_list(request):
    payment_filter = PaymentFilter(
        request.GET, queryset=scoped_payments(request.user), request=request
    )
    qs = payment_filter.qs if payment_filter.is_valid() else Payment.objects.none()
    can_manage = can_manage_billing(request.user)
    table = PaymentTable(qs.order_by("-received_on", "-pk"), can_manage=can_manage)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {"filter": payment_filter, "table": table, "can_manage": can_manage}
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
            payment = services.payment_record(user=request.user, **data)
        except services.DuplicateBankRefError as exc:
            url = reverse("billing:payment-detail", args=[exc.existing.pk])
            form.add_error(
                "bank_ref",
                format_html('{} <a href="{}">查看已登记的收款</a>', exc.messages[0], url),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已登记收款 {format_money(payment.amount)}，请核销到账单")
            return redirect("billing:payment-detail", pk=payment.pk)
    return render(
        request,
        "billing/payment_form.html",
        {"form": form, "customer_options": company_id_options(request.user)},
    )


@login_required
def payment_detail(request, pk: int):
    payment = get_object_or_404(scoped_payments(request.user), pk=pk)
    can_manage = can_manage_billing(request.user)
    bills = list(bills_open_for_payer(payment.customer_id)) if can_manage else []
    form = AllocationForm(bills=bills)
    return render(request, "billing/payment_detail.html", _payment_context(request, payment, form))


def _payment_context(request, payment: Payment, form: AllocationForm) -> dict:
    return {
        "payment": payment,
        "form": form,
        "allocations": payment.allocations.select_related("bill", "created_by", "undone_by"),
        "can_manage": can_manage_billing(request.user),
        "credit": services.customer_credit(payment.customer),
    }


@login_required
@require_POST
def payment_allocate(request, pk: int):
    _require_manage(request.user)
    payment = get_object_or_404(scoped_payments(request.user), pk=pk)
    form = AllocationForm(request.POST, bills=list(bills_open_for_payer(payment.customer_id)))
    if form.is_valid():
        try:
            created = services.payment_allocate(
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
    created = services.payment_allocate_oldest_first(user=request.user, payment=payment)
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
            services.allocation_undo(
                user=request.user, allocation=allocation, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request, f"已撤销核销 {allocation.bill.number} {format_money(allocation.amount)}"
            )
    if request.POST.get("back") == "bill":
        return redirect("billing:bill-detail", pk=allocation.bill_id)
    return redirect("billing:payment-detail", pk=allocation.payment_id)


# --- bills: lifecycle ----------------------------------------------------------------


# --- statements ------------------------------------------------------------------------


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
