"""Signed webhooks to outside systems and team robots, against a local HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from accounts.models import NotificationKind, WebhookDelivery
from accounts.notifications import notify
from accounts.webhooks import webhook_emit
from billing.payments.services import payment_record
from tests.factories import (
    CustomerFactory,
    TeamChannelFactory,
    TeamFactory,
    UserFactory,
    WebhookSubscriptionFactory,
    issued_bill,
)

pytestmark = pytest.mark.django_db


def _expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_bill_issued_is_posted_signed_to_the_subscribed_system(
    http_recorder, ops_user, django_capture_on_commit_callbacks
):
    # Given an outside system subscribed to bill.issued
    sub = WebhookSubscriptionFactory(url=http_recorder.url + "/hook", events=["bill.issued"])

    # When a bill is issued
    with django_capture_on_commit_callbacks(execute=True):
        bill = issued_bill(user=ops_user, lines=("250.00",))

    # Then the system got one signed post naming the bill
    assert len(http_recorder.requests) == 1
    req = http_recorder.requests[0]
    assert req.headers["X-OPCMS-Signature"] == _expected_signature(sub.secret, req.body)
    assert req.headers["X-OPCMS-Event"] == "bill.issued"
    payload = json.loads(req.body)
    assert payload["data"]["number"] == bill.number and payload["data"]["total"] == "250.00"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("succeeded", 200, 1)


def test_payment_recorded_goes_only_to_subscribers_of_that_event(
    http_recorder, ops_user, django_capture_on_commit_callbacks
):
    WebhookSubscriptionFactory(url=http_recorder.url + "/bills", events=["bill.issued"])
    WebhookSubscriptionFactory(url=http_recorder.url + "/pay", events=["payment.recorded"])
    with django_capture_on_commit_callbacks(execute=True):
        payment_record(
            user=ops_user,
            customer=CustomerFactory(),
            amount=Decimal("88.00"),
            received_on=__import__("datetime").date(2026, 11, 5),
            method="bank",
            bank_ref="B-1",
        )
    assert [r.path for r in http_recorder.requests] == ["/pay"]
    assert json.loads(http_recorder.requests[0].body)["data"]["amount"] == "88.00"


def test_a_failing_receiver_is_retried_logged_and_can_be_replayed_by_hand(
    http_recorder, settings, admin_user, client, django_capture_on_commit_callbacks
):
    # Given a receiver that answers 500
    settings.OPCMS_WEBHOOK_MAX_RETRIES = 2
    http_recorder.status = 500
    WebhookSubscriptionFactory(url=http_recorder.url + "/hook", events=["period.closed"])

    # When the event fires (Celery retries run eagerly in tests)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(event="period.closed", payload={"period": "2026-11"})

    # Then it was tried 1 + 2 times and the log says failed with the code
    delivery = WebhookDelivery.objects.get()
    assert len(http_recorder.requests) == 3
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("failed", 500, 3)

    # When the receiver is fixed and an admin replays from the page
    http_recorder.status = 200
    client.force_login(admin_user)
    page = client.get(reverse("accounts:webhook-list")).content.decode()
    assert "period.closed" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:webhook-replay", args=[delivery.pk]))

    # Then it is delivered, with the same signed body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code) == ("succeeded", 200)
    assert http_recorder.requests[-1].body == http_recorder.requests[0].body


def test_dingtalk_robot_gets_the_teams_notifications_with_its_signature(
    http_recorder, django_capture_on_commit_callbacks
):
    # Given a team with a DingTalk robot and a member
    team = TeamFactory()
    member = UserFactory(team=team)
    channel = TeamChannelFactory(
        team=team, provider="dingtalk", webhook_url=http_recorder.url + "/robot/send?access_token=t"
    )

    # When the member is notified (twice: the same event)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            notify(
                recipients=[member],
                kind=NotificationKind.BILL_OVERDUE,
                event_key="bill:7:overdue:7",
                title="账单逾期 7 天",
                body="未收 ¥100.00",
                link="/billing/bills/7/",
            )

    # Then the robot got one markdown post whose sign matches DingTalk's scheme
    assert len(http_recorder.requests) == 1
    req = http_recorder.requests[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(req.path).query)
    timestamp, sign = query["timestamp"][0], query["sign"][0]
    expected = base64.b64encode(
        hmac.new(
            channel.secret.encode(), f"{timestamp}\n{channel.secret}".encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert sign == expected
    assert query["access_token"] == ["t"]
    message = json.loads(req.body)
    assert message["msgtype"] == "markdown"
    assert "账单逾期 7 天" in message["markdown"]["text"]


def test_wecom_robot_gets_a_plain_markdown_post(http_recorder, django_capture_on_commit_callbacks):
    team = TeamFactory()
    member = UserFactory(team=team)
    TeamChannelFactory(
        team=team,
        provider="wecom",
        secret="",
        webhook_url=http_recorder.url + "/cgi-bin/webhook/send?key=k",
    )
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[member],
            kind=NotificationKind.PAYMENT,
            event_key="payment:1:received",
            title="收款 ¥88.00",
        )
    req = http_recorder.requests[0]
    assert req.path == "/cgi-bin/webhook/send?key=k"
    assert json.loads(req.body)["markdown"]["content"].startswith("**收款 ¥88.00**")


def test_a_robot_limited_to_some_kinds_stays_quiet_for_others(
    http_recorder, django_capture_on_commit_callbacks
):
    team = TeamFactory()
    member = UserFactory(team=team)
    TeamChannelFactory(team=team, webhook_url=http_recorder.url + "/r", kinds=["bill_overdue"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[member], kind=NotificationKind.JOB_DONE, event_key="job:1", title="完成")
    assert http_recorder.requests == []


# --- the schedules page ------------------------------------------------------------


def test_admin_switches_a_schedule_off_and_moves_it_audited(client, admin_user, beat_schedules):
    task = PeriodicTask.objects.get(task="billing.schedule_monthly_drafts")
    client.force_login(admin_user)
    assert "每月生成上月草稿账单" in client.get(reverse("accounts:schedule-list")).content.decode()

    response = client.post(
        reverse("accounts:schedule-edit", args=[task.pk]),
        {"minute": "0", "hour": "4", "day_of_month": "5", "month_of_year": "*", "day_of_week": "*"},
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.enabled is False
    assert (task.crontab.hour, task.crontab.day_of_month) == ("4", "5")
    assert LogEntry.objects.get_for_object(task).filter(actor=admin_user).exists()


def test_a_bad_crontab_is_refused_in_chinese(client, admin_user, beat_schedules):
    task = PeriodicTask.objects.get(task="billing.schedule_reminders")
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:schedule-edit", args=[task.pk]),
        {
            "enabled": "on",
            "minute": "99",
            "hour": "7",
            "day_of_month": "*",
            "month_of_year": "*",
            "day_of_week": "*",
        },
    )
    assert response.status_code == 200
    assert "时间表达式无效" in response.content.decode()


@pytest.mark.parametrize("route", ["accounts:schedule-list", "accounts:webhook-list"])
@pytest.mark.parametrize("who", ["manager_user", "ops_user", "sales_user"])
def test_only_admins_open_the_schedule_and_webhook_pages(client, request, who, route):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(route)).status_code == 403


def test_only_admins_replay(client, ops_user):
    delivery = WebhookDelivery.objects.create(event="bill.issued", body="{}")
    client.force_login(ops_user)
    assert client.post(reverse("accounts:webhook-replay", args=[delivery.pk])).status_code == 403


def test_an_interval_schedule_is_only_switched_not_turned_into_a_crontab(client, admin_user):
    from django_celery_beat.models import IntervalSchedule

    every = IntervalSchedule.objects.create(every=10, period="minutes")
    task = PeriodicTask.objects.create(name="预计算", task="reports.cockpit_warm", interval=every)
    client.force_login(admin_user)
    client.post(reverse("accounts:schedule-edit", args=[task.pk]), {})
    task.refresh_from_db()
    assert (task.enabled, task.interval_id, task.crontab_id) == (False, every.pk, None)
