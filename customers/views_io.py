"""Views of the customer export flow (the workbook import flow is billing's: billing/workbook/views.py).

Thin adapters: forms check input, exports do the work, a Celery job carries a large export.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from accounts import roles
from accounts.selectors import jobs_visible_to
from accounts.services import job_create, job_enqueue

from . import exports
from .forms_io import ExportForm
from .tasks import customer_export_task

EXPORT_KIND = "customer_export"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
