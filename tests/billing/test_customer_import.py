"""The customer import job on a real Celery worker through Redis (billing's task, imported directly)."""

import pytest

from accounts.models import Job
from accounts.services import job_create
from customers.models import Customer
from tests.customers.conftest import default_cooperation_mapping  # noqa: F401 - autouse fixture
from tests.customers.import_files import SAMPLE


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_import_job_runs_on_a_real_worker(require_redis, ops_user):
    from celery.contrib.testing.worker import start_worker

    from billing.tasks import customer_import_task
    from opcms.celery import app

    job = job_create(
        kind="customer_import",
        created_by=ops_user,
        params={"filename": SAMPLE.name, "series": "", "valid_from": "", "mapping": None},
        input_name=SAMPLE.name,
        input_bytes=SAMPLE.read_bytes(),
    )
    app.conf.update(broker_url=require_redis, task_always_eager=False, result_backend=require_redis)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            customer_import_task.delay(job.pk).get(timeout=60)
    finally:
        app.conf.update(task_always_eager=True, broker_url="memory://", result_backend=None)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result["新增"] == 1318
    assert Customer.objects.count() == 1318
