"""Web flow of the company workbook import: upload → column mapping → preview → confirm → result.

It lives in billing because confirming starts billing's job (customers, then
price plans from the price columns; see customer_import.py): the higher app
orchestrates and imports the lower one directly (STYLE 18). The routes keep
their /customers/import/ paths (opcms/urls.py mounts customer_import_urls).
"""

from __future__ import annotations

import io

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
from billing.tasks import customer_import_task
from customers import importers
from customers.forms_io import ImportMappingForm, ImportUploadForm
from customers.tasks import customer_import_preview_task

PREVIEW_KIND = "customer_import_preview"
IMPORT_KIND = "customer_import"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_import(user) -> None:
    if not roles.can_import(user):
        raise PermissionDenied


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
            return redirect("customer_import:mapping", pk=job.pk)
    context = {"form": form, "max_mb": form.fields["file"].help_text}
    return render(request, "billing/customer_import/start.html", context)


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
                "next_url": reverse("customer_import:preview", args=[job.pk]),
            }
            job.save(update_fields=["params"])
            job_enqueue(job=job, task=customer_import_preview_task)
        return redirect("customer_import:preview", pk=job.pk)
    columns = [
        (form[f"col_{i}"], [row[i] if i < len(row) else "" for row in params.get("samples", [])])
        for i in range(len(params["labels"]))
    ]
    return render(
        request,
        "billing/customer_import/mapping.html",
        {"job": job, "form": form, "columns": columns},
    )


@login_required
def import_preview(request, pk: int):
    _require_import(request.user)
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind=PREVIEW_KIND), pk=pk)
    preview = job.params.get("preview") if job.status == job.Status.SUCCEEDED else None
    return render(request, "billing/customer_import/preview.html", {"job": job, "preview": preview})


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
        job.params["next_url"] = reverse("customer_import:result", args=[job.pk])
        job.save(update_fields=["params"])
        job_enqueue(job=job, task=customer_import_task)
    return redirect("customer_import:result", pk=job.pk)


@login_required
def import_result(request, pk: int):
    _require_import(request.user)
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind=IMPORT_KIND), pk=pk)
    return render(request, "billing/customer_import/result.html", {"job": job})
