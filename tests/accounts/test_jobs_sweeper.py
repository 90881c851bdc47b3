"""A job left "running" by a killed worker is marked failed and its owner told."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Job, Notification, NotificationKind
from accounts.services import STUCK_JOB_MESSAGE, jobs_fail_stuck
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_jobs_running_past_their_timeout_fail_and_their_owner_is_told(sales_user, settings):
    # given a job started long ago and still "running", and one started just now
    settings.OPCMS_JOB_TIMEOUT_SECONDS = 3600
    now = timezone.now()
    stuck = JobFactory(
        created_by=sales_user, status=Job.Status.RUNNING, started_at=now - dt.timedelta(hours=2)
    )
    busy = JobFactory(
        created_by=sales_user, status=Job.Status.RUNNING, started_at=now - dt.timedelta(minutes=5)
    )
    # when the sweeper runs
    failed = jobs_fail_stuck(now=now)
    # then only the stuck one failed, with a message its owner can act on, and was notified
    assert [j.pk for j in failed] == [stuck.pk]
    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert stuck.status == Job.Status.FAILED
    assert stuck.message == STUCK_JOB_MESSAGE
    assert stuck.owner_notified_at is not None
    assert busy.status == Job.Status.RUNNING
    # in the inbox, like any job that failed, and only once however often the sweeper runs
    jobs_fail_stuck(now=now + dt.timedelta(minutes=10))
    notices = Notification.objects.filter(recipient=sales_user, kind=NotificationKind.JOB_DONE)
    assert [(n.title, n.body) for n in notices] == [
        (f"后台任务失败：{stuck.title or stuck.kind}", STUCK_JOB_MESSAGE)
    ]


def test_the_sweeper_leaves_finished_jobs_alone(sales_user):
    done = JobFactory(
        created_by=sales_user,
        status=Job.Status.SUCCEEDED,
        started_at=timezone.now() - dt.timedelta(days=3),
    )

    assert jobs_fail_stuck() == []
    done.refresh_from_db()
    assert done.status == Job.Status.SUCCEEDED


def test_the_schedules_install_idempotently(db):
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    from billing.operations.schedules import schedules_install

    for _ in range(2):
        schedules_install(
            periodic_task=PeriodicTask,
            crontab_schedule=CrontabSchedule,
            interval_schedule=IntervalSchedule,
            timezone="Asia/Shanghai",
        )

    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"billing.worker_heartbeat", "accounts.jobs_fail_stuck"} <= tasks
    assert PeriodicTask.objects.filter(task="billing.worker_heartbeat").count() == 1
