"""Background jobs through a real Celery worker on Redis, and the file purge they schedule."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import Job
from accounts.services import jobs_purge_files
from tests.factories import JobFactory


def _old_job_with_file(days_ago: int) -> Job:
    job = JobFactory(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now() - timedelta(days=days_ago)
    )
    job.error_file.save("errors.xlsx", ContentFile(b"data"))
    return job


@pytest.mark.django_db
def test_purge_removes_old_files_and_keeps_recent_ones():
    old = _old_job_with_file(40)
    recent = _old_job_with_file(2)

    assert jobs_purge_files(older_than_days=30) == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old.error_file
    assert recent.error_file
    assert jobs_purge_files(older_than_days=30) == 0


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_task_runs_on_a_real_worker_through_redis(require_redis, settings):
    from celery.contrib.testing.worker import start_worker

    from accounts.tasks import jobs_purge_files_task
    from opcms.celery import app

    old = _old_job_with_file(40)
    app.conf.update(broker_url=require_redis, task_always_eager=False, result_backend=require_redis)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            result = jobs_purge_files_task.delay(30)
            assert result.get(timeout=20) == 1
    finally:
        app.conf.update(task_always_eager=True, broker_url="memory://", result_backend=None)

    old.refresh_from_db()
    assert not old.error_file
