"""Writes for reports: large exports run as background jobs with progress."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from accounts.models import Job
from accounts.services import job_attach_file, job_create, job_enqueue

from . import selectors
from .exports import receivables_xlsx

RECEIVABLES_EXPORT = "reports_receivables_export"


def _filters_to_params(filters: selectors.ReportFilters) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(filters).items()}


def _filters_from_params(params: dict[str, Any]) -> selectors.ReportFilters:
    data = dict(params)
    for key in ("month_from", "month_to"):
        data[key] = date.fromisoformat(data[key]) if data.get(key) else None
    return selectors.ReportFilters(**data)


def receivables_export_job_start(
    *, user: Any, filters: selectors.ReportFilters, today: date, next_url: str = ""
) -> Job:
    """Queue the receivables workbook for the user's scope and filters as of `today`."""
    from .tasks import receivables_export_task

    job = job_create(
        kind=RECEIVABLES_EXPORT,
        created_by=user,
        title=f"导出应收账款（{today.isoformat()}）",
        params={
            "filters": _filters_to_params(filters),
            "today": today.isoformat(),
            "next_url": next_url,
        },
    )
    job_enqueue(job=job, task=receivables_export_task)
    return job


def receivables_export_run(job: Job, progress: Any) -> dict[str, Any]:
    """The job's work: the same selectors as the page, scoped to the job's owner."""
    user = job.created_by
    filters = _filters_from_params(job.params["filters"])
    today = date.fromisoformat(job.params["today"])
    months = selectors.receivables_by_month(user, filters=filters, today=today)
    totals = selectors.receivable_totals_of(months)
    progress(0, total=totals["bill_count"])

    def rows():
        for index, row in enumerate(
            selectors.receivable_rows(user, filters=filters, today=today).iterator(chunk_size=2000),
            start=1,
        ):
            if index % 5000 == 0:
                progress(index)
            yield row

    content = receivables_xlsx(rows=rows(), totals=totals)
    job_attach_file(
        job=job, field="result_file", name=f"receivables-{today:%Y%m%d}.xlsx", content=content
    )
    return {"账单数": totals["bill_count"], "应收合计": str(totals["billed"])}
