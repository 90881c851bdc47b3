"""Celery task for batch actions on large filtered sets (run as a background job with progress)."""

from celery import shared_task


@shared_task(name="customers.batch_apply")
def customers_batch_task(job_id: int) -> None:
    from accounts.services import job_run

    from .services import customers_batch_job_work

    job_run(job_id=job_id, work=customers_batch_job_work)
