"""The what-if pages: the form and result, its export, the job result and apply."""

from __future__ import annotations

import json
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from accounts.models import Job
from accounts.roles import can_manage_plans, can_run_whatif
from accounts.tables import RequestConfig
from billing.whatif import documents
from billing.whatif.forms import WhatIfApplyForm, WhatIfForm
from billing.whatif.selectors import WhatIfResult, WhatIfRow, whatif_compute, whatif_customers
from billing.whatif.services import whatif_apply_start, whatif_job_start
from billing.whatif.tables import PER_PAGE, WhatIfTable, table_rows
from opcms.months import month_parse

# Up to this many customers the comparison runs while the page loads; more go to a job.
INLINE_MAX = 5_000
MONEY_KEYS = ("billed", "current", "candidate", "difference")


def _check(user) -> None:
    if not can_run_whatif(user):
        raise PermissionDenied("无权进行价格试算")


def _compute(form: WhatIfForm, user):
    """(result rows as dicts, months, customer count) or None when the set is too large."""
    _, terms = form.candidate()
    data = form.cleaned_data
    customers = whatif_customers(user=user, query=data["customers"], ids=data["ids"])
    count = customers.count()
    if count > INLINE_MAX:
        return None, count
    result = whatif_compute(
        customers_qs=customers,
        series_id=data["series"].pk,
        candidate=terms,
        first_month=data["month_from"],
        last_month=data["month_to"],
    )
    return ([r.as_dict() for r in result.rows], result.months), count


def _totals(rows: list[dict]) -> dict:
    totals = {key: sum((r[key] for r in rows), Decimal("0")) for key in MONEY_KEYS}
    current = totals["current"]
    totals["change_pct"] = (
        (totals["difference"] * 100 / current).quantize(Decimal("0.01")) if current else None
    )
    return totals


def _result_context(request, rows: list[dict], months, threshold) -> dict:
    table = WhatIfTable(table_rows(rows))
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    threshold = threshold if threshold is not None else Decimal("10")
    above = [r for r in table_rows(rows) if r["change_key"] > threshold and r["candidate"] > 0]
    chart = _distribution(rows)
    return {
        "table": table,
        "totals": _totals(rows),
        "months": months,
        "above": above,
        "threshold": threshold,
        "chart": chart,
        "rows_count": len(rows),
    }


def _distribution(rows: list[dict]) -> list[dict]:
    result = WhatIfResult(months=[])
    for r in rows:
        result.rows.append(
            WhatIfRow(
                r["customer_id"],
                r["company_id"],
                r["name"],
                current=r["current"],
                candidate=r["candidate"],
            )
        )
    return result.distribution()


@login_required
def whatif(request):
    _check(request.user)
    # Opened from the customer list with only its filter: an empty form carrying it.
    bound = "series" in request.GET
    form = WhatIfForm(
        request.GET if bound else None, initial={"customers": request.GET.get("customers", "")}
    )
    context = {
        "form": form,
        "query": request.GET.urlencode(),
        "can_apply": can_manage_plans(request.user),
        "apply_form": WhatIfApplyForm(),
    }
    if bound and form.is_valid():
        try:
            computed, count = _compute(form, request.user)
        except ValidationError:
            computed, count = None, 0
        context["count"] = count
        if computed is not None:
            rows, months = computed
            context.update(_result_context(request, rows, months, form.cleaned_data["threshold"]))
        elif count:
            context["too_many"] = True
    template = "billing/whatif.html#result" if request.htmx else "billing/whatif.html"
    return render(request, template, context)


@login_required
def whatif_export(request):
    _check(request.user)
    form = WhatIfForm(request.GET)
    if not form.is_valid():
        return render(request, "billing/whatif.html", {"form": form}, status=400)
    try:
        computed, _ = _compute(form, request.user)
    except ValidationError:
        return render(request, "billing/whatif.html", {"form": form}, status=400)
    if computed is None:
        raise Http404("客户过多，请在后台运行后从结果页导出")
    return _xlsx_response(*computed)


def _xlsx_response(rows, months) -> HttpResponse:
    rows = sorted(rows, key=lambda r: r["difference"], reverse=True)
    content = documents.whatif_xlsx(rows=rows, totals=_totals(rows), months=months)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, "价格试算.xlsx")
    return response


@login_required
@require_POST
def whatif_run(request):
    _check(request.user)
    try:
        job = whatif_job_start(user=request.user, query=request.POST.get("query", ""))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("billing:whatif")
    return redirect("accounts:job-detail", pk=job.pk)


def _job_rows(request, pk: int):
    """The stored result of one of the caller's what-if jobs (another's answers 404)."""
    _check(request.user)
    job = get_object_or_404(
        Job, pk=pk, kind="whatif", created_by=request.user, status=Job.Status.SUCCEEDED
    )
    with job.result_file.open("rb") as handle:
        payload = json.load(handle)
    rows = []
    for row in payload["rows"]:
        for key in MONEY_KEYS:
            row[key] = Decimal(row[key])
        row["change_pct"] = Decimal(row["change_pct"]) if row["change_pct"] is not None else None
        rows.append(row)
    return job, rows, [month_parse(m) for m in payload["months"]]


@login_required
def whatif_job(request, pk: int):
    job, rows, months = _job_rows(request, pk)
    form = WhatIfForm(QueryDict(job.params["query"]))
    form.is_valid()
    context = {
        "form": form,
        "job": job,
        "query": job.params["query"],
        "can_apply": can_manage_plans(request.user),
        "apply_form": WhatIfApplyForm(),
    }
    context.update(_result_context(request, rows, months, form.cleaned_data.get("threshold")))
    return render(request, "billing/whatif.html", context)


@login_required
def whatif_job_export(request, pk: int):
    _, rows, months = _job_rows(request, pk)
    return _xlsx_response(rows, months)


@login_required
@require_POST
def whatif_apply_view(request):
    if not can_manage_plans(request.user):
        raise PermissionDenied("无权维护价格方案")
    query = request.POST.get("query", "")
    apply_form = WhatIfApplyForm(request.POST)
    try:
        if not apply_form.is_valid():
            raise ValidationError("请填写有效的新价格生效日期")
        outcome = whatif_apply_start(
            user=request.user, query=query, valid_from=apply_form.cleaned_data["valid_from"]
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect(f"{reverse('billing:whatif')}?{query}")
    if isinstance(outcome, Job):  # many customers: the job page shows its progress
        return redirect("accounts:job-detail", pk=outcome.pk)
    messages.success(request, f"已为 {len(outcome.created)} 位客户新建方案版本")
    for company_id, reason in outcome.refused[:20]:
        messages.warning(request, f"客户 {company_id} 未应用：{reason}")
    return redirect(f"{reverse('billing:whatif')}?{query}")
