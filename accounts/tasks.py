"""Scheduled housekeeping for background jobs."""

from celery import shared_task

from .services import jobs_fail_stuck, jobs_purge_files


@shared_task(name="accounts.jobs_purge_files")
def jobs_purge_files_task(days: int = 30) -> int:
    return jobs_purge_files(older_than_days=days)


@shared_task(name="accounts.jobs_fail_stuck")
def jobs_fail_stuck_task() -> int:
    return len(jobs_fail_stuck())
