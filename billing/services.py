"""Writes for billing. STAND-IN (issue 8): bill generation entry points per the contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import Job
from accounts.services import job_create, job_enqueue


@dataclass
class GenerationResult:
    bills: int = 0
    total: Decimal = Decimal("0.00")
    anomalies: list = field(default_factory=list)


def bills_generate_for_period(
    *, period: date, user: Any, customer_ids: list[int] | None = None, progress=None
) -> GenerationResult:
    return GenerationResult()


@transaction.atomic
def bills_generate_job_start(*, period: date, user: Any, customer_ids=None) -> Job:
    from .tasks import bills_generate_task

    job = job_create(
        kind="bills_generate",
        created_by=user,
        title=f"生成 {period:%Y-%m} 账单",
        params={"period": period.isoformat(), "customer_ids": customer_ids},
    )
    job_enqueue(job=job, task=bills_generate_task)
    return job
