"""Pages of plans, usage and bills: parse and check, call one selector or service, render."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Job
from accounts.roles import can_edit_customer, can_import, can_manage_billing, can_manage_plans
from accounts.selectors import jobs_visible_to
from accounts.services import job_attach_file, job_create
from customers.selectors import grade_suggestion, scoped_customers

from .forms import (
    BillFilterForm,
    GenerateForm,
    PlanExampleForm,
    PlanForm,
    UsageEntryForm,
    UsageImportForm,
)
from .models import Bill, DeviceSeries, PricePlan
from .pricing import AnnualContext, UsageSummary, price_month
from .reconciliation import customer_credit
from .selectors import (
    bill_history,
    bill_line_usage,
    bills_for_month,
    bills_totals,
    customer_billing_summary,
    month_shift,
    plan_is_locked,
    plan_terms,
    scoped_bills,
    scoped_plans,
    scoped_usage,
)
from .services import (
    bills_generate_for_period,
    bills_generate_job_start,
    plan_create,
    plan_new_version,
    plan_update,
)
from .usage import (
    ParsedSheet,
    SheetError,
    error_workbook,
    read_usage_workbook,
    usage_import_parsed,
    usage_ingest,
)


def _default_period() -> date:
    # Settlement runs at the start of a month for the month just ended.
    return month_shift(timezone.localdate().replace(day=1), -1)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


@login_required
def bill_list(request):
    form = BillFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    period = data.get("period") or _default_period()
    qs = bills_for_month(
        request.user,
        period=period,
        status=data.get("status") or "",
        query=data.get("q") or "",
        anomalies_only=bool(data.get("anomalies")),
    )
    context = {
        "form": form,
        "period": period,
        "totals": bills_totals(qs),
        "page": Paginator(qs, 50).get_page(request.GET.get("page")),
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
def customer_usage(request, pk: int):
    customer = get_object_or_404(scoped_customers(request.user), pk=pk)
    can_enter = can_manage_billing(request.user)
    form = UsageEntryForm(request.POST or None, initial={"shot_date": timezone.localdate()})
    if request.method == "POST":
        _require(can_enter)
        if form.is_valid():
            record = {
                **form.cleaned_data,
                "series": form.cleaned_data["series"].code,
                "company_id": customer.company_id,
            }
            result = usage_ingest(records=[record], user=request.user, atomic=True, source="manual")
            if result.errors:
                for error in result.errors:
                    form.add_error(
                        error["field"] if error["field"] in form.fields else None, error["message"]
                    )
            elif result.duplicates:
                form.add_error("source_ref", "该来源单号已录入过，未重复计入")
            else:
                messages.success(request, "用量已录入")
                return redirect("billing:customer-usage", customer.pk)
    context = {
        "customer": customer,
        "form": form,
        "can_enter": can_enter,
        "can_plan": can_manage_plans(request.user),
        "records": Paginator(
            scoped_usage(request.user).filter(customer=customer).select_related("series"), 50
        ).get_page(request.GET.get("page")),
        "plans": scoped_plans(request.user).filter(customer=customer).select_related("series"),
        "bills": scoped_bills(request.user).filter(customer=customer).order_by("-period")[:12],
    }
    return render(request, "billing/customer_usage.html", context)


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
    }
    template = (
        "billing/customer_summary.html#summary" if request.htmx else "billing/customer_summary.html"
    )
    return render(request, template, context)


@login_required
def usage_import(request):
    """Upload: the file is read here, once; the job keeps the parsed sheet for the preview."""
    _require(can_import(request.user) and can_manage_billing(request.user))
    form = UsageImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        params = {k: form.cleaned_data[k] for k in ("kind", "year")} | {
            "series": form.cleaned_data["series"].code
        }
        try:
            parsed = read_usage_workbook(upload, **params, filename=upload.name)
        except SheetError as exc:
            form.add_error("file", str(exc))
        else:
            upload.seek(0)
            job = job_create(
                kind="usage_import",
                created_by=request.user,
                title="导入用量",
                params=params | {"parsed": parsed.to_json()},
                input_name=upload.name,
                input_bytes=upload.read(),
            )
            return redirect("billing:usage-import-preview", job.pk)
    return render(request, "billing/usage_import.html", {"form": form})


@login_required
def usage_import_preview(request, pk: int):
    _require(can_import(request.user) and can_manage_billing(request.user))
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind="usage_import"), pk=pk)
    commit = request.method == "POST" and not job.is_finished
    if "parsed" not in job.params:
        return render(
            request,
            "billing/usage_import.html",
            {
                "form": UsageImportForm(),
                "sheet_error": "该导入任务没有可预览的数据，请重新上传文件",
            },
        )
    parsed, result, problems = usage_import_parsed(
        parsed=ParsedSheet.from_json(job.params["parsed"]), user=request.user, commit=commit
    )
    blocking = [p for p in problems if not p.get("warning")]
    if problems and not job.error_file:
        job_attach_file(
            job=job,
            field="error_file",
            name="用量导入错误明细.xlsx",
            content=error_workbook(problems),
        )
    if blocking and not job.is_finished:
        # A file with errors is never imported; the job list says so.
        job.status, job.finished_at = Job.Status.FAILED, timezone.now()
        job.message = f"有 {len(blocking)} 处错误，未导入任何数据，请下载错误明细修改后重新上传"
        job.save(update_fields=["status", "finished_at", "message"])
    if commit and not blocking:
        job.status, job.finished_at = Job.Status.SUCCEEDED, timezone.now()
        job.result = {"新增": result.created, "重复": result.duplicates}
        job.save(update_fields=["status", "finished_at", "result"])
        messages.success(
            request, f"已导入 {result.created} 条用量，跳过重复 {result.duplicates} 条"
        )
    context = {
        "job": job,
        "file_name": job.input_file.name.rsplit("/", 1)[-1],
        "parsed": parsed,
        "result": result,
        "problems": problems[:200],
        "blocking": len(blocking),
    }
    return render(request, "billing/usage_import_preview.html", context)


def _plan_example(form: PlanForm, example: PlanExampleForm) -> dict:
    """Price the example month with the plan as typed so far (nothing is saved)."""
    if not form.is_valid() or not example.is_valid():
        return {"error": "填写完整后显示示例"}
    plan = form.save(commit=False)
    single = example.cleaned_data.get("ex_single") or 0
    multi = example.cleaned_data.get("ex_multi") or 0
    floors = example.cleaned_data.get("ex_floors") or 2
    usage = UsageSummary(single_shots=single, multi_shots=multi, multi_floors=multi * floors)
    try:
        ctx = AnnualContext(month_index=1) if plan.kind == "annual" else None
        breakdown = price_month(plan_terms(plan), usage, ctx)
    except ValueError as exc:
        return {"error": str(exc)}
    return {"single": single, "multi": multi, "floors": floors, "breakdown": breakdown}


def _plan_form_page(request, *, customer, plan=None, mode="create"):
    form = PlanForm(
        request.POST or None,
        instance=plan if mode == "edit" else None,
        initial=_initial(plan, mode),
    )
    example_form = PlanExampleForm(
        request.POST or None, initial={"ex_single": 10, "ex_multi": 2, "ex_floors": 3}
    )
    series_code = request.POST.get("series") or (plan.series.code if plan else "L")
    if request.htmx and request.POST.get("_example"):
        return render(
            request,
            "billing/plan_form.html#example",
            {"example": _plan_example(form, example_form)},
        )
    if request.method == "POST" and form.is_valid():
        try:
            if mode == "create":
                series = get_object_or_404(DeviceSeries, code=series_code)
                saved = plan_create(
                    user=request.user, customer=customer, series=series, data=form.plan_data()
                )
            elif mode == "edit":
                saved = plan_update(
                    user=request.user, plan=PricePlan.objects.get(pk=plan.pk), data=form.plan_data()
                )
            else:
                saved = plan_new_version(
                    user=request.user,
                    plan=plan,
                    valid_from=form.cleaned_data["valid_from"] or timezone.localdate(),
                    data=form.plan_data(),
                )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, f"价格方案第 {saved.version} 版已保存")
            return redirect("billing:customer-usage", customer.pk)
    context = {
        "customer": customer,
        "plan": plan,
        "mode": mode,
        "form": form,
        "example_form": example_form,
        "series": DeviceSeries.objects.filter(is_active=True),
        "series_code": series_code,
        "example": _plan_example(form, example_form) if request.method == "POST" or plan else None,
    }
    return render(request, "billing/plan_form.html", context)


def _initial(plan, mode):
    if plan is None:
        return {"kind": PricePlan.Kind.PER_SHOOT}
    if mode == "edit":
        return None
    return {name: getattr(plan, name) for name in PlanForm.Meta.fields} | {"valid_from": None}


@login_required
def plan_create_view(request, pk: int):
    _require(can_manage_plans(request.user))
    customer = get_object_or_404(scoped_customers(request.user), pk=pk)
    return _plan_form_page(request, customer=customer)


@login_required
def plan_edit(request, plan_pk: int):
    _require(can_manage_plans(request.user))
    plan = get_object_or_404(
        scoped_plans(request.user).select_related("customer", "series"), pk=plan_pk
    )
    mode = (
        "version"
        if plan_is_locked(plan) or request.GET.get("version") or request.POST.get("_version")
        else "edit"
    )
    return _plan_form_page(request, customer=plan.customer, plan=plan, mode=mode)
