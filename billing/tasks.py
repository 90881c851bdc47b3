"""Celery tasks of billing: a few lines each, the work lives in services."""

from celery import shared_task

from accounts.services import job_run

from .customer_import import customer_import_job_work


@shared_task(name="billing.customer_import")
def customer_import_task(job_id: int) -> None:
    job_run(job_id=job_id, work=customer_import_job_work)
