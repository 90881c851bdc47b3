"""Celery tasks of billing: thin wrappers that run one service inside a recorded Job."""

from celery import shared_task

from accounts.services import job_run
from billing.operations.health import worker_heartbeat_record
from billing.payments.receipts import receipts_import_run
from billing.workbook.services import customer_import_job_work


@shared_task
def bills_generate_task(job_id: int) -> None:
    from billing.bills.services import bills_generate_job_work

    job_run(job_id=job_id, work=bills_generate_job_work)


@shared_task(name="billing.customer_import")
def customer_import_task(job_id: int) -> None:
    job_run(job_id=job_id, work=customer_import_job_work)


@shared_task(name="billing.receipt_import_task")
def receipt_import_task(job_id: int) -> None:
    receipts_import_run(job_id=job_id)


# --- the scheduler's duties (beat entries: billing.schedules.services.DUTIES) ---


@shared_task(name="billing.schedule_monthly_drafts")
def schedule_monthly_drafts_task() -> dict:
    from billing.schedules.services import duty_run

    return duty_run(key="monthly_drafts")


@shared_task(name="billing.schedule_reminders")
def schedule_reminders_task() -> dict:
    from billing.schedules.services import duty_run

    return duty_run(key="reminders")


@shared_task(name="billing.schedule_lifecycle_rules")
def schedule_lifecycle_rules_task() -> dict:
    from billing.schedules.services import duty_run

    return duty_run(key="lifecycle_rules")


@shared_task(name="billing.backup_nightly")
def schedule_backup_task() -> dict:
    from billing.schedules.services import duty_run

    return duty_run(key="backup")


@shared_task(name="billing.worker_heartbeat")
def worker_heartbeat_task() -> float:
    return worker_heartbeat_record()


@shared_task(name="billing.whatif_task")
def whatif_task(job_id: int) -> None:
    from billing.whatif.services import whatif_job_work

    job_run(job_id=job_id, work=whatif_job_work)


@shared_task(name="billing.whatif_apply_task")
def whatif_apply_task(job_id: int) -> None:
    from billing.whatif.services import whatif_apply_job_work

    job_run(job_id=job_id, work=whatif_apply_job_work)


@shared_task(name="billing.schedule_broken_promises")
def schedule_broken_promises_task() -> dict:
    from billing.schedules.services import duty_run

    return duty_run(key="broken_promises")


@shared_task
def period_export_task(job_id: int) -> None:
    from billing.close.exports import period_export_job_work

    job_run(job_id=job_id, work=period_export_job_work)
