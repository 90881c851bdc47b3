"""Pages of bills: list, generation, detail, line usage, issue, reversal, manual lines, credit."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import can_close_period, can_edit_customer, can_manage_billing
from accounts.tables import RequestConfig
from billing.bills import services
from billing.bills.filters import BillFilter
from billing.bills.forms import (
    GenerateForm,
    IssuePeriodForm,
    ManualLineForm,
    ReasonForm,
)
from billing.bills.selectors import (
    bill_history,
    bill_line_usage,
    bills_totals,
    customer_billing_summary,
    month_shift,
    scoped_bills,
)
from billing.bills.services import bills_generate_for_period, bills_generate_job_start
from billing.bills.tables import PER_PAGE as BILL_PAGE
from billing.bills.tables import BillTable
from billing.collections.selectors import credit_score_for
from billing.models import Bill
from billing.money import format_money
from billing.payments import services as payment_services
from billing.payments.services import customer_credit
from customers.selectors import grade_suggestion, scoped_customers


def _default_period() -> date:
    # Settlement runs at the start of a month for the month just ended.
    return month_shift(timezone.localdate().replace(day=1), -1)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _require_manage(user) -> None:
    if not can_manage_billing(user):
        raise PermissionDenied("只有运营和管理员可以出账、冲正、登记和核销收款")


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


@login_required
def bill_list(request):
    # The page lists one month's bills; the API lists any period with the same FilterSet.
    data = request.GET.copy()
    if not data.get("period"):
        data["period"] = f"{_default_period():%Y-%m}"
    qs = scoped_bills(request.user).filter(kind=Bill.Kind.BILL)
    bill_filter = BillFilter(data, queryset=qs, request=request)
    bills = bill_filter.qs if bill_filter.is_valid() else qs.none()
    period = bill_filter.form.cleaned_data.get("period") or _default_period()
    table = BillTable(bills, order_by=request.GET.get("sort") or "company_id")
    RequestConfig(request, paginate={"per_page": BILL_PAGE}).configure(table)
    context = {
        "filter": bill_filter,
        "table": table,
        "period": period.replace(day=1),
        "totals": bills_totals(bills),
        "can_generate": can_manage_billing(request.user),
        "generate_form": GenerateForm(initial={"period": f"{period:%Y-%m}"}),
    }
    template = "billing/bill_list.html#table" if request.htmx else "billing/bill_list.html"
    return render(request, template, context)


@login_required
@require_POST
def bill_generate(request):
    _require(can_manage_billing(request.user))
    form = GenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("billing:bill-list")
    period, customer_pk = form.cleaned_data["period"], form.cleaned_data.get("customer")
    if customer_pk:
        customer = get_object_or_404(scoped_customers(request.user), pk=customer_pk)
        try:
            result = bills_generate_for_period(
                period=period, user=request.user, customer_ids=[customer.pk]
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect(reverse("billing:bill-list") + f"?period={period:%Y-%m}")
        messages.success(
            request,
            f"已重新生成 {period:%Y-%m} 账单：{result.bills} 张，异常 {len(result.anomalies)} 条",
        )
        bill = (
            scoped_bills(request.user)
            .filter(customer=customer, period=period, kind="bill")
            .exclude(status="reversed")
            .first()
        )
        if bill is None:
            return redirect("billing:customer-usage", customer.pk)
        return redirect("billing:bill-detail", bill.pk)
    with transaction.atomic():
        job = bills_generate_job_start(period=period, user=request.user)
    return redirect("accounts:job-detail", job.pk)


def _is_live(bill: Bill) -> bool:
    return bill.kind == Bill.Kind.BILL and bill.status != Bill.Status.REVERSED


@login_required
def bill_detail(request, pk: int):
    """The one bill page: pricing (lines, plans, anomalies) and lifecycle (actions, allocations)."""
    bill = get_object_or_404(
        scoped_bills(request.user).select_related("customer", "reverses", "issued_by"), pk=pk
    )
    lines = list(bill.lines.select_related("series", "plan", "created_by"))
    history = bill_history(bill)
    can_manage = can_manage_billing(request.user)
    context = {
        "bill": bill,
        "lines": lines,
        "plans": sorted(
            {line.plan for line in lines if line.plan}, key=lambda p: (p.series_id, p.version)
        ),
        "allocations": bill.allocations.select_related("payment", "created_by", "undone_by"),
        "history": history,
        "can_manage": can_manage,
        "can_acknowledge": can_close_period(request.user),
        # A draft is regenerated in place; a reversed bill with no live successor gets one.
        "can_generate": can_manage
        and bill.kind == Bill.Kind.BILL
        and (bill.status == Bill.Status.DRAFT or not any(_is_live(h) for h in history)),
        "credit": customer_credit(bill.customer),
    }
    return render(request, "billing/bill_detail.html", context)


@login_required
def bill_line_usage_view(request, pk: int, line_pk: int):
    bill = get_object_or_404(scoped_bills(request.user), pk=pk)
    line = get_object_or_404(bill.lines.select_related("bill", "plan"), pk=line_pk)
    records = bill_line_usage(line).select_related("series")[:500]
    template = (
        "billing/bill_line_usage.html#records" if request.htmx else "billing/bill_line_usage.html"
    )
    return render(request, template, {"bill": bill, "line": line, "records": records})


@login_required
def customer_summary(request, pk: int):
    """The billing slot of the customer page (loaded by htmx; a plain page without it)."""
    customer = get_object_or_404(scoped_customers(request.user), pk=pk)
    summary = customer_billing_summary(customer=customer, today=timezone.localdate())
    can_grade = can_edit_customer(request.user, customer)
    context = {
        "customer": customer,
        **summary,
        "can_grade": can_grade,
        "grade_suggestion": grade_suggestion(summary["billed_12m"]) if can_grade else "",
        "credit_score": credit_score_for(customer, today=timezone.localdate()),
    }
    template = (
        "billing/customer_summary.html#summary" if request.htmx else "billing/customer_summary.html"
    )
    return render(request, template, context)


@login_required
def bill_reconcile(request, pk: int):
    """The former reconciliation page of a bill, merged into `billing:bill-detail`."""
    bill = get_object_or_404(scoped_bills(request.user), pk=pk)
    return redirect("billing:bill-detail", pk=bill.pk)


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
        bill = services.bill_issue(user=request.user, bill=bill)
        return f"账单 {bill.number} 已出账，到期日 {bill.due_date:%Y-%m-%d}"

    return _bill_action(request, pk, action)


@login_required
@require_POST
def bill_reverse(request, pk: int):
    form = ReasonForm(request.POST)

    def action(bill):
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        note = services.bill_reverse(user=request.user, bill=bill, reason=reason)
        return f"账单 {bill.number} 已冲正，冲正单 {note.number}；可重新生成并出账更正后的账单"

    return _bill_action(request, pk, action)


@login_required
@require_POST
def bill_apply_credit(request, pk: int):
    def action(bill):
        created = payment_services.bill_apply_credit(user=request.user, bill=bill)
        total = sum(a.amount for a in created)
        return f"已用客户余额核销 {format_money(total)}（{len(created)} 笔收款）"

    return _bill_action(request, pk, action)


@login_required
@require_POST
def bill_add_line(request, pk: int):
    form = ManualLineForm(request.POST)

    def action(bill):
        if not form.is_valid():
            raise ValidationError("请填写金额和调整原因")
        line = services.bill_add_manual_line(user=request.user, bill=bill, **form.cleaned_data)
        return f"已添加手工调整 {format_money(line.amount)}"

    return _bill_action(request, pk, action)


@login_required
def bills_issue_period(request):
    _require_manage(request.user)
    form = IssuePeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        period = form.cleaned_data["period"]
        try:
            issued = services.bills_issue_for_period(
                user=request.user, period=period, customers=scoped_customers(request.user)
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"{period:%Y-%m} 共出账 {len(issued)} 张草稿账单")
            return redirect("billing:payment-list")
    drafts = scoped_bills(request.user).filter(status=Bill.Status.DRAFT, kind=Bill.Kind.BILL)
    return render(request, "billing/bill_issue_period.html", {"form": form, "drafts": drafts[:200]})
