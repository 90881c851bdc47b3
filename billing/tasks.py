"""Billing tasks. STAND-IN (issue 8)."""

from datetime import date

from celery import shared_task

from accounts.services import job_run


@shared_task
def bills_generate_task(job_id: int) -> None:
    from .services import bills_generate_for_period

    def work(job, progress):
        result = bills_generate_for_period(
            period=date.fromisoformat(job.params["period"]),
            user=job.created_by,
            customer_ids=job.params.get("customer_ids"),
            progress=progress,
        )
        return {"bills": result.bills, "total": str(result.total)}

    job_run(job_id=job_id, work=work)
