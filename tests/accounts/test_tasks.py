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
def test_task_runs_on_a_real_worker_through_redis(require_redis):
    """A task sent through Redis is run by a real worker thread and its result comes back.

    A fresh Celery app is used: the project app may already have cached an
    eager-mode backend from tasks run earlier in this process. Shared tasks
    register themselves on every app, so the fresh one knows them by name.
    """
    from celery import Celery
    from celery.contrib.testing.worker import start_worker

    import accounts.tasks  # noqa: F401  registers the shared task

    old = _old_job_with_file(40)
    app = Celery("opcms-redis-test", broker=require_redis, backend=require_redis)
    app.conf.update(task_always_eager=False, worker_hijack_root_logger=False)

    # tests/conftest.py gives the current/default app back to the project afterwards.
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = app.send_task("accounts.jobs_purge_files", kwargs={"days": 30})
        assert result.get(timeout=60) == 1

    old.refresh_from_db()
    assert not old.error_file
