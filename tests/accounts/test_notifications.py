"""The one notification mechanism: inbox rows once per event, email now or in the digest."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import EmailMode, Notification, NotificationKind, NotificationPreference
from accounts.notifications import notifications_digest_send, notify
from accounts.services import job_create, job_run
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _notify(user, key="bill:1:overdue:1", title="账单逾期 1 天", link="/billing/bills/1/"):
    return notify(
        recipients=[user],
        kind=NotificationKind.BILL_OVERDUE,
        event_key=key,
        title=title,
        body="未收金额 ¥100.00",
        link=link,
    )


def test_an_event_reaches_a_person_once_in_the_inbox_and_by_email(
    django_capture_on_commit_callbacks,
):
    # Given a salesperson with an email address
    user = UserFactory(email="wangke@example.com")

    # When the same event is told twice
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify(user)
        second = _notify(user)

    # Then one inbox row and one email, with an absolute link
    assert len(first.created) == 1 and second.created == []
    assert Notification.objects.filter(recipient=user).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["wangke@example.com"]
    assert "账单逾期 1 天" in mail.outbox[0].subject
    assert "http://testserver-site/billing/bills/1/" in mail.outbox[0].body


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://testserver-site"


def test_the_database_refuses_a_second_row_for_the_same_event():
    user = UserFactory()
    _notify(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=user, kind=NotificationKind.PAYMENT, event_key="bill:1:overdue:1", title="x"
        )


def test_no_email_leaves_when_the_event_is_rolled_back(django_capture_on_commit_callbacks):
    user = UserFactory(email="a@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            _notify(user)
            raise RuntimeError("the service failed after notifying")
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_digest_preference_collects_the_days_items_into_one_chinese_email(
    django_capture_on_commit_callbacks,
):
    # Given a user who wants overdue bills as a daily digest
    user = UserFactory(email="lead@example.com", full_name="孙晓")
    NotificationPreference.objects.create(
        user=user, kind=NotificationKind.BILL_OVERDUE, email=EmailMode.DIGEST
    )
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user, key="bill:1:overdue:1", title="账单 A 逾期")
        _notify(user, key="bill:2:overdue:1", title="账单 B 逾期")
    assert mail.outbox == []

    # When the digest runs twice
    first = notifications_digest_send()
    second = notifications_digest_send()

    # Then one email with both items and links, and nothing the second time
    assert (first, second) == (1, 0)
    message = mail.outbox[0]
    assert "每日通知汇总（2 条）" in message.subject
    assert "账单 A 逾期" in message.body and "账单 B 逾期" in message.body
    assert "孙晓，您好" in message.body
    assert "http://testserver-site/billing/bills/1/" in message.body


def test_in_app_off_keeps_the_row_out_of_the_inbox_and_email_off_sends_nothing(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="x@example.com")
    NotificationPreference.objects.create(
        user=user, kind=NotificationKind.BILL_OVERDUE, in_app=False, email=EmailMode.OFF
    )
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user)
    assert mail.outbox == []
    assert Notification.objects.get(recipient=user).in_inbox is False


def test_mail_is_delivered_to_a_real_smtp_server(
    settings, smtp_server, django_capture_on_commit_callbacks
):
    # Given Django's SMTP backend pointed at an SMTP server started in the test
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    user = UserFactory(email="sales1@example.com")

    # When an event is told
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user, title="重庆宏图 账单逾期 7 天")

    # Then the server received it, Chinese subject and link intact
    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == ["sales1@example.com"]
    assert message["Subject"] == "[OP_CMS] 重庆宏图 账单逾期 7 天"
    assert "http://testserver-site/billing/bills/1/" in message.get_content()
    assert Notification.objects.get(recipient=user).emailed_at is not None


def test_a_finished_job_tells_the_person_who_started_it(django_capture_on_commit_callbacks):
    user = UserFactory(email="ops@example.com")
    job = job_create(kind="test", created_by=user, title="导出客户")
    with django_capture_on_commit_callbacks(execute=True):
        job_run(job_id=job.pk, work=lambda job, progress: {"导出客户": 12})
    n = Notification.objects.get(recipient=user)
    assert n.kind == NotificationKind.JOB_DONE
    assert n.title == "后台任务已完成：导出客户"
    assert n.link == reverse("accounts:job-detail", args=[job.pk])


def test_a_failed_job_says_so():
    user = UserFactory()
    job = job_create(kind="test", created_by=user, title="导入客户")

    def boom(job, progress):
        from django.core.exceptions import ValidationError

        raise ValidationError("第 3 行：公司id 为空")

    job_run(job_id=job.pk, work=boom)
    n = Notification.objects.get(recipient=user)
    assert n.title == "后台任务失败：导入客户"
    assert "第 3 行" in n.body


# --- inbox pages ---------------------------------------------------------------


def test_bell_shows_the_unread_count_and_the_inbox_marks_read(client):
    user = UserFactory()
    _notify(user, key="k1", title="第一条")
    _notify(user, key="k2", title="第二条")
    client.force_login(user)

    page = client.get(reverse("accounts:notification-list")).content.decode()
    assert 'id="nav-bell-count">2<' in page
    assert "第一条" in page and "第二条" in page

    client.post(reverse("accounts:notification-list"), {"all": "1"})
    page = client.get(reverse("accounts:notification-list")).content.decode()
    assert "nav-bell-count" not in page
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_opening_a_notification_marks_it_read_and_goes_to_its_object(client):
    user = UserFactory()
    n = _notify(user, link="/billing/bills/42/").created[0]
    client.force_login(user)
    response = client.get(reverse("accounts:notification-open", args=[n.pk]))
    assert response.status_code == 302 and response.url == "/billing/bills/42/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_someone_elses_notification_answers_404(client):
    owner, other = UserFactory(), UserFactory()
    n = _notify(owner).created[0]
    client.force_login(other)
    assert client.get(reverse("accounts:notification-open", args=[n.pk])).status_code == 404
    client.post(reverse("accounts:notification-list"), {"ids": [n.pk]})
    n.refresh_from_db()
    assert n.read_at is None


def test_preferences_page_saves_per_kind_choices(client):
    user = UserFactory()
    client.force_login(user)
    data = {f"email_{k}": "immediate" for k in NotificationKind.values}
    data |= {f"in_app_{k}": "on" for k in NotificationKind.values}
    data["email_payment"] = "digest"
    data.pop("in_app_job_done")
    client.post(reverse("accounts:notification-preferences"), data)

    prefs = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    assert prefs["payment"].email == "digest"
    assert prefs["job_done"].in_app is False
    page = client.get(reverse("accounts:notification-preferences")).content.decode()
    assert '<option value="digest" selected>' in page
