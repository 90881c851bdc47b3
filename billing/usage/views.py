"""Pages of usage: a customer's usage and entry by hand, the usage sheet import and its preview."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.models import Job
from accounts.roles import can_import, can_manage_billing, can_manage_plans
from accounts.selectors import jobs_visible_to
from accounts.services import job_attach_file, job_create
from billing.bills.selectors import (
    scoped_bills,
)
from billing.plans.selectors import scoped_plans
from billing.usage.forms import UsageEntryForm, UsageImportForm
from billing.usage.selectors import scoped_usage
from billing.usage.services import (
    ParsedSheet,
    SheetError,
    error_workbook,
    read_usage_workbook,
    usage_import_parsed,
    usage_ingest,
)
from customers.selectors import scoped_customers


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


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
