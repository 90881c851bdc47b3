"""Orchestrates the company workbook import: customers first, then price plans from its price columns.

Billing sits above customers, so the flow that touches both lives here (STYLE:
the higher app orchestrates). The price cells are staged in
`customers.ImportedPrice` by the customer import, then turned into plans here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.plans.imports import one_of, plans_from_imported_prices
from customers import importers
from customers.models import ImportedPrice


@dataclass
class CustomerImportOutcome:
    plan: importers.ImportPlan
    counts: dict[str, int]
    plan_warnings: list[str] = field(default_factory=list)
    plans_made: bool = False


def customer_import_run(
    *,
    fileobj: Any,
    filename: str,
    user: Any,
    series_code: str = "",
    valid_from: date | None = None,
    mapping: dict[int, str] | None = None,
    dry_run: bool = False,
    source: str = "web",
    progress: Any = None,
    job_id: int | None = None,
) -> CustomerImportOutcome:
    """Analyse the file, commit its valid rows (unless dry_run), then make price plans.

    Raises importers.ImportFileError for a file that cannot be imported at all.
    """
    # The table is not kept: its rows are freed once analysed (100,000-row files).
    plan = importers.import_analyse(
        importers.table_open(fileobj, filename=filename),
        mapping=mapping,
        series_code=series_code,
        filename=filename,
        progress=progress,
    )
    if dry_run:
        return CustomerImportOutcome(plan=plan, counts=plan.counts())
    # Customers and their plans in one transaction: a worker killed in between leaves
    # neither, and the retried job does the whole import again.
    with transaction.atomic():
        counts = importers.import_commit(
            plan=plan, user=user, source=source, progress=progress, job_id=job_id
        )
        outcome = CustomerImportOutcome(plan=plan, counts=counts)
        customer_ids = [r.customer_pk for r in plan.rows if r.price_changed and r.customer_pk]
        if plan.series_code and customer_ids:
            # imported_at is not read by the plans; parsing 11,000 timestamps is not free.
            staged = ImportedPrice.objects.filter(
                consumed=False, series_code=plan.series_code, customer_id__in=one_of(customer_ids)
            ).defer("imported_at")
            outcome.plan_warnings = list(
                plans_from_imported_prices(imported_prices=staged, valid_from=valid_from, user=user)
            )
            outcome.plans_made = True
    return outcome


RESULT_LABELS = {
    "created": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "invalid": "无效",
    "warnings": "警告",
}


def customer_import_job_work(job, progress) -> dict[str, Any]:
    """The body of the customer import job: the file and options come from the job."""
    from accounts.services import job_attach_file

    params = job.params
    valid_from = date.fromisoformat(params["valid_from"]) if params.get("valid_from") else None
    try:
        with job.input_file.open("rb") as fileobj:
            outcome = customer_import_run(
                fileobj=fileobj,
                filename=params.get("filename", ""),
                user=job.created_by,
                series_code=params.get("series", ""),
                valid_from=valid_from,
                mapping=params.get("mapping"),
                source="web",
                progress=progress,
                job_id=job.pk,
            )
    except importers.ImportFileError as exc:
        raise ValidationError(str(exc)) from exc
    if outcome.plan.problem_rows():
        job_attach_file(
            job=job,
            field="error_file",
            name=f"导入问题-{job.pk}.xlsx",
            content=importers.error_workbook(outcome.plan),
        )
    result = {RESULT_LABELS[k]: v for k, v in outcome.counts.items()}
    if outcome.plans_made:
        result["价格方案提示"] = len(outcome.plan_warnings)
    job.params = {**params, "plan_warnings": outcome.plan_warnings[:200]}
    job.save(update_fields=["params"])
    return result
