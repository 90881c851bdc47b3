"""Celery tasks of customers: import preview and export. Each is a few lines over importers/exports."""

from __future__ import annotations

import io
from typing import Any

from celery import shared_task
from django.core.exceptions import ValidationError

from accounts.models import Job
from accounts.services import job_attach_file, job_run

from . import exports, importers

RESULT_LABELS = {
    "created": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "invalid": "无效",
    "warnings": "警告",
}


def import_preview_work(job: Job, progress: Any) -> dict[str, Any]:
    """Analyse the uploaded file against the database (writes no customer) for the preview page."""
    params = job.params
    try:
        with job.input_file.open("rb") as fileobj:
            table = importers.table_open(fileobj, filename=params.get("filename", ""))
            plan = importers.import_analyse(
                table,
                mapping=params.get("mapping"),
                series_code=params.get("series", ""),
                filename=params.get("filename", ""),
                progress=progress,
            )
    except importers.ImportFileError as exc:
        raise ValidationError(str(exc)) from exc
    if plan.problem_rows():
        job_attach_file(
            job=job,
            field="error_file",
            name=f"导入预检问题-{job.pk}.xlsx",
            content=importers.error_workbook(plan),
        )
    job.params = {**params, "preview": importers.plan_preview(plan)}
    job.save(update_fields=["params"])
    return {RESULT_LABELS[k]: v for k, v in plan.counts().items()}


def export_work(job: Job, progress: Any) -> dict[str, Any]:
    params = job.params
    queryset = exports.export_queryset(
        user=job.created_by,
        scope=params.get("scope", "all"),
        params=params.get("filter", {}),
        ids=params.get("ids"),
    )
    output = io.BytesIO()
    count = exports.export_write(
        queryset=queryset,
        fields=params.get("fields", []),
        fmt=params.get("format", "xlsx"),
        output=output,
        progress=progress,
        user=job.created_by,
        sections=bool(params.get("sections")),
    )
    job_attach_file(
        job=job,
        field="result_file",
        name=exports.export_filename(params.get("format", "xlsx")),
        content=output.getvalue(),
    )
    return {"导出客户": count}


@shared_task(name="customers.import_preview")
def customer_import_preview_task(job_id: int) -> None:
    job_run(job_id=job_id, work=import_preview_work)


@shared_task(name="customers.export")
def customer_export_task(job_id: int) -> None:
    job_run(job_id=job_id, work=export_work)
