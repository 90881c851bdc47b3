"""Views of the customer import (upload → mapping → preview → confirm → result) and export flows.

Thin adapters: forms check input, importers/exports do the work, Celery jobs
carry anything that may take long.
"""

from __future__ import annotations

import io

from celery import current_app
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.selectors import jobs_visible_to
from accounts.services import job_create, job_enqueue

from . import exports, importers
from .forms_io import ExportForm, ImportMappingForm, ImportUploadForm
from .tasks import customer_export_task, customer_import_preview_task

PREVIEW_KIND = "customer_import_preview"
IMPORT_KIND = "customer_import"
EXPORT_KIND = "customer_export"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_import(user) -> None:
    if not roles.can_import(user):
        raise PermissionDenied


def _billing_task(name: str):
    # The commit task lives in billing (it also makes price plans); customers
    # must not import billing, so it is looked up in Celery's registry by name.
    current_app.loader.import_default_modules()
    return current_app.tasks[name]


def _sample_rows(table: importers.Table, limit: int = 3) -> list[list[str]]:
    rows = []
    for index, raw in enumerate(table.rows()):
        if index <= table.header.row_index:
            continue
        rows.append([importers.cell_text(c, set())[:40] for c in raw[: len(table.header.labels)]])
        if len(rows) >= limit:
            break
    return rows


@login_required
def import_start(request):
    _require_import(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            table = importers.table_open(io.BytesIO(content), filename=upload.name)
            samples = _sample_rows(table)
        except importers.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            valid_from = form.cleaned_data.get("valid_from")
            job = job_create(
                kind=PREVIEW_KIND,
                created_by=request.user,
                title=f"导入预检：{upload.name}",
                params={
                    "filename": upload.name,
                    "series": form.cleaned_data.get("series") or "",
                    "valid_from": valid_from.isoformat() if valid_from else "",
                    "sheet": table.title,
                    "labels": table.header.labels,
                    "header_row": table.header.row_index + 1,
                    "mapping": {str(k): v for k, v in table.header.mapping.items()},
                    "samples": samples,
                },
                input_name=upload.name,
                input_bytes=content,
            )
            return redirect("customers:import-mapping", pk=job.pk)
    context = {"form": form, "max_mb": form.fields["file"].help_text}
    return render(request, "customers/import_start.html", context)


@login_required
def import_template(request):
    _require_import(request.user)
    response = HttpResponse(importers.template_workbook(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, "客户导入模板.xlsx")
    return response


@login_required
def import_mapping(request, pk: int):
    _require_import(request.user)
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind=PREVIEW_KIND), pk=pk)
    params = job.params
    form = ImportMappingForm(
        request.POST or None, labels=params["labels"], mapping=params["mapping"]
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if job.status != job.Status.QUEUED:
                # A finished job never runs again: a corrected mapping gets a fresh preview job.
                with job.input_file.open("rb") as fileobj:
                    content = fileobj.read()
                job = job_create(
                    kind=PREVIEW_KIND,
                    created_by=request.user,
                    title=job.title,
                    params={k: v for k, v in params.items() if k != "preview"},
                    input_name=params["filename"],
                    input_bytes=content,
                )
            job.params = {
                **job.params,
                "mapping": form.mapping(),
                "next_url": reverse("customers:import-preview", args=[job.pk]),
            }
            job.save(update_fields=["params"])
            job_enqueue(job=job, task=customer_import_preview_task)
        return redirect("customers:import-preview", pk=job.pk)
    columns = [
        (form[f"col_{i}"], [row[i] if i < len(row) else "" for row in params.get("samples", [])])
        for i in range(len(params["labels"]))
    ]
    return render(
        request, "customers/import_mapping.html", {"job": job, "form": form, "columns": columns}
    )


@login_required
def import_preview(request, pk: int):
    _require_import(request.user)
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind=PREVIEW_KIND), pk=pk)
    preview = job.params.get("preview") if job.status == job.Status.SUCCEEDED else None
    return render(request, "customers/import_preview.html", {"job": job, "preview": preview})


@login_required
@require_POST
def import_confirm(request, pk: int):
    _require_import(request.user)
    preview_job = get_object_or_404(
        jobs_visible_to(request.user).filter(kind=PREVIEW_KIND, status="succeeded"), pk=pk
    )
    params = preview_job.params
    with preview_job.input_file.open("rb") as fileobj:
        content = fileobj.read()
    with transaction.atomic():
        job = job_create(
            kind=IMPORT_KIND,
            created_by=request.user,
            title=f"客户导入：{params['filename']}",
            params={
                key: params.get(key, "")
                for key in ("filename", "series", "valid_from", "mapping", "sheet")
            }
            | {"preview_job": preview_job.pk},
            input_name=params["filename"],
            input_bytes=content,
        )
        job.params["next_url"] = reverse("customers:import-result", args=[job.pk])
        job.save(update_fields=["params"])
        job_enqueue(job=job, task=_billing_task("billing.customer_import"))
    return redirect("customers:import-result", pk=job.pk)


@login_required
def import_result(request, pk: int):
    _require_import(request.user)
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind=IMPORT_KIND), pk=pk)
    return render(request, "customers/import_result.html", {"job": job})


@login_required
def export_start(request):
    """Export what the list shows: its GET parameters are the filter, `ids=` the selection."""
    if not roles.can_export(request.user):
        raise PermissionDenied
    initial = {"ids": request.GET.get("ids", "")}
    scope = request.GET.get("scope", "")
    if scope in dict(ExportForm.SCOPES):
        initial["scope"] = scope
    elif initial["ids"]:
        initial["scope"] = "selection"
    form = ExportForm(request.POST or None, initial=initial)
    filter_query = exports.filter_params(request.GET)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        queryset = exports.export_queryset(
            user=request.user, scope=data["scope"], params=filter_query, ids=data["ids"]
        )
        if queryset.count() <= exports.SYNC_MAX_ROWS:
            output = io.BytesIO()
            exports.export_write(
                queryset=queryset,
                fields=data["fields"],
                fmt=data["format"],
                output=output,
                user=request.user,
                sections=data["sections"],
            )
            content_type = XLSX_TYPE if data["format"] == "xlsx" else "text/csv; charset=utf-8"
            response = HttpResponse(output.getvalue(), content_type=content_type)
            response["Content-Disposition"] = content_disposition_header(
                True, exports.export_filename(data["format"])
            )
            return response
        with transaction.atomic():
            job = job_create(
                kind=EXPORT_KIND,
                created_by=request.user,
                title="客户导出",
                params={
                    "scope": data["scope"],
                    # urlencoded, so repeated keys survive the trip through the job's JSON
                    "filter": filter_query.urlencode(),
                    "ids": data["ids"],
                    "fields": data["fields"],
                    "format": data["format"],
                    "sections": data["sections"],
                },
            )
            job_enqueue(job=job, task=customer_export_task)
        messages.info(request, "导出数据较多，已转为后台任务，完成后可在此下载。")
        return redirect("customers:export-result", pk=job.pk)
    count = exports.export_queryset(user=request.user, scope="filter", params=filter_query).count()
    context = {
        "form": form,
        "filter_count": count,
        "selection_count": len([p for p in initial["ids"].split(",") if p.strip()]),
        "list_url": f"{reverse('customers:customer-list')}?{filter_query.urlencode()}",
    }
    return render(request, "customers/export_start.html", context)


@login_required
def export_result(request, pk: int):
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind=EXPORT_KIND), pk=pk)
    return render(request, "customers/export_result.html", {"job": job})
