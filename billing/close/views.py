"""Pages of the month-end close (月结): the checklist, close/reopen, and what clears a gate."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import (
    can_close_period,
    can_export,
    can_override_close_gate,
    can_reopen_period,
)
from billing.bills.selectors import scoped_bills
from billing.bills.services import ANOMALY_RULES
from billing.close import exports, selectors, services
from billing.close.forms import (
    AcknowledgeForm,
    ExportForm,
    GateOverrideForm,
    NoUsageForm,
    PeriodForm,
    PeriodReasonForm,
)
from billing.payments.selectors import scoped_payments
from customers.selectors import scoped_customers
from opcms.months import month_format, month_shift


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _back(month) -> HttpResponse:
    return redirect(reverse("billing:period-close") + f"?period={month_format(month)}")


def _run(request, month, action) -> HttpResponse:
    """Call one service; its refusal is shown as a message on the close page."""
    try:
        messages.success(request, action())
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return _back(month)


@login_required
def period_close_page(request):
    _require(can_close_period(request.user))
    form = PeriodForm(request.GET or None)
    month = form.cleaned_data["period"] if form.is_valid() and form.cleaned_data["period"] else None
    month = month or month_shift(timezone.localdate().replace(day=1), -1)
    gates = selectors.period_gates(user=request.user, month=month, with_rows=True)
    context = {
        "month": month,
        "period": selectors.period_get(month),
        "gates": gates,
        "all_green": all(g.is_green for g in gates),
        "confirmed": selectors.customers_confirmed_no_usage(user=request.user, month=month),
        "rules": ANOMALY_RULES,
        "can_override": can_override_close_gate(request.user),
        "can_reopen": can_reopen_period(request.user),
        "recent": selectors.periods_recent(),
        "prev_month": month_shift(month, -1),
        "next_month": month_shift(month, 1),
    }
    return render(request, "billing/period_close.html", context)


@login_required
@require_POST
def period_close(request):
    form = PeriodForm(request.POST)
    _require(can_close_period(request.user) and form.is_valid())
    month = form.cleaned_data["period"]
    return _run(
        request,
        month,
        lambda: (
            f"{month_format(services.period_close(user=request.user, period=month).month)} 已关账"
        ),
    )


@login_required
@require_POST
def period_reopen(request):
    form = PeriodReasonForm(request.POST)
    _require(form.is_valid() or "period" not in form.errors)
    month = form.cleaned_data["period"]
    reason = form.cleaned_data.get("reason", "")
    return _run(
        request,
        month,
        lambda: (
            f"{month_format(services.period_reopen(user=request.user, period=month, reason=reason).month)} 已重开"
        ),
    )


@login_required
@require_POST
def period_gate_override(request):
    form = GateOverrideForm(request.POST)
    _require(form.is_valid() or "period" not in form.errors)
    data = form.cleaned_data
    return _run(
        request,
        data["period"],
        lambda: (
            "已豁免："
            + selectors.GATES[
                services.period_gate_override(
                    user=request.user,
                    period=data["period"],
                    gate=data.get("gate", ""),
                    reason=data.get("reason", ""),
                ).gate
            ]
        ),
    )


@login_required
@require_POST
def period_no_usage(request):
    _require(can_close_period(request.user))
    form = NoUsageForm(
        request.POST, customer_ids=scoped_customers(request.user).values_list("pk", flat=True)
    )
    if not form.is_valid():
        month = PeriodForm(request.POST).is_valid() and PeriodForm(request.POST)
        messages.error(request, "请勾选要确认的客户")
        return _back(month.cleaned_data["period"] if month else timezone.localdate())
    data = form.cleaned_data
    customers = list(scoped_customers(request.user).filter(pk__in=data["customers"]))
    return _run(
        request,
        data["period"],
        lambda: (
            f"已确认 {services.no_usage_confirm(user=request.user, period=data['period'], customers=customers, reason=data['reason'])} 个客户本月无用量"
        ),
    )


@login_required
def period_export(request):
    _require(can_export(request.user))
    form = ExportForm(request.GET)
    _require(form.is_valid() and form.cleaned_data["period"] is not None)
    month, fmt = form.cleaned_data["period"], form.cleaned_data["fmt"] or "xlsx"
    if exports.period_lines(user=request.user, month=month).count() > exports.JOB_THRESHOLD_LINES:
        job = exports.period_export_job_start(user=request.user, month=month, fmt=fmt)
        return redirect("accounts:job-detail", pk=job.pk)
    buffer = io.BytesIO()
    exports.period_export_write(user=request.user, month=month, fmt=fmt, output=buffer)
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    name = f"bills-{month_format(month)}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def bill_acknowledge(request, pk: int):
    _require(can_close_period(request.user))
    bill = get_object_or_404(scoped_bills(request.user), pk=pk)
    form = AcknowledgeForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    index = form.cleaned_data.get("index") if form.is_valid() else None
    try:
        services.anomaly_acknowledge(user=request.user, bill=bill, reason=reason, index=index)
        messages.success(request, f"账单 {bill.number} 的异常已确认")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    if request.POST.get("next") == "close":
        return _back(bill.period)
    return redirect("billing:bill-detail", pk=bill.pk)


@login_required
@require_POST
def receipt_explain(request, pk: int):
    _require(can_close_period(request.user))
    payment = get_object_or_404(scoped_payments(request.user), pk=pk)
    form = PeriodReasonForm({"period": f"{payment.received_on:%Y-%m}", **request.POST.dict()})
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _run(
        request,
        payment.received_on.replace(day=1),
        lambda: (
            f"已说明收款 {services.receipt_explain(user=request.user, payment=payment, reason=reason).payment_id}"
        ),
    )
