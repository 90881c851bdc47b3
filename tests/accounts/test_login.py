"""Login, throttling, session lifetime and role groups."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import SESSION_STARTED_KEY
from accounts.models import User
from accounts.roles import Role
from accounts.services import roles_sync_groups, user_create
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def post_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR="10.0.0.7")


def test_login_succeeds_and_lands_home(client, ops_user):
    response = post_login(client, ops_user.username, PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_wrong_password_shows_chinese_error(client, ops_user):
    response = post_login(client, ops_user.username, "wrong")

    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_five_failures_lock_the_username_from_that_address(client, ops_user):
    for _ in range(5):
        post_login(client, ops_user.username, "wrong")

    response = post_login(client, ops_user.username, PASSWORD)

    assert response.status_code == 429
    assert "锁定" in response.content.decode()


def test_lockout_does_not_block_other_users_behind_the_same_address(client, ops_user, sales_user):
    for _ in range(5):
        post_login(client, ops_user.username, "wrong")

    response = post_login(client, sales_user.username, PASSWORD)

    assert response.status_code == 302


def test_success_resets_the_failure_count(client, ops_user):
    for _ in range(4):
        post_login(client, ops_user.username, "wrong")
    assert post_login(client, ops_user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        post_login(client, ops_user.username, "wrong")

    assert post_login(client, ops_user.username, PASSWORD).status_code == 302


def test_session_ends_after_twelve_hours(client, ops_user):
    client.force_login(ops_user)
    session = client.session
    session[SESSION_STARTED_KEY] = int(time.time()) - 12 * 3600 - 5
    session.save()

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert client.get(reverse("home")).status_code == 302


def test_idle_timeout_is_thirty_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_RENEW_AFTER_SECONDS == 60


def at(moment):
    """The clock of the session store and of SessionLifetimeMiddleware, set to `moment`."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def stored_expiry(client):
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(session_key=key).expire_date


def test_session_is_written_when_its_expiry_moves_a_minute_not_on_every_page(client, ops_user):
    start = timezone.now()
    with at(start):
        client.force_login(ops_user)
        client.get(reverse("home"))
    first = stored_expiry(client)

    with at(start + timedelta(seconds=30)), CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    writes = [
        q["sql"] for q in queries if "django_session" in q["sql"] and "SELECT" not in q["sql"]
    ]
    assert writes == []
    assert stored_expiry(client) == first

    with at(start + timedelta(seconds=61)):
        response = client.get(reverse("home"))
    assert stored_expiry(client) == start + timedelta(seconds=61 + 1800)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 1800


def test_a_user_at_work_stays_signed_in_past_thirty_minutes(client, ops_user):
    start = timezone.now()
    with at(start):
        client.force_login(ops_user)
    for second in range(45, 45 * 50, 45):  # a page every 45 s for 37 minutes
        with at(start + timedelta(seconds=second)):
            assert client.get(reverse("home")).status_code == 200


def test_a_session_idle_for_thirty_minutes_ends(client, ops_user):
    start = timezone.now()
    with at(start):
        client.force_login(ops_user)
    with at(start + timedelta(seconds=61)):
        client.get(reverse("home"))  # saved: expires 30 min from here
    with at(start + timedelta(seconds=100)):
        client.get(reverse("home"))  # not saved: the expiry would move by 39 s only

    # 30 minutes after the last request (and so more than 30 after the last save).
    with at(start + timedelta(seconds=100 + 1800 + 1)):
        response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_visitor_with_an_expired_session_cookie_gets_no_new_session(client):
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32

    assert client.get(LOGIN).status_code == 200

    assert not Session.objects.exists()


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_role_groups_carry_permissions():
    groups = roles_sync_groups()

    manager_perms = set(groups[Role.MANAGER].permissions.values_list("codename", flat=True))
    assert "view_customer" in manager_perms
    assert "change_customer" not in manager_perms
    assert "change_customer" in set(groups[Role.OPS].permissions.values_list("codename", flat=True))


def test_user_create_puts_the_user_in_the_role_group():
    user = user_create(username="newsales", password=PASSWORD, role=Role.SALES, full_name="新销售")

    assert list(user.groups.values_list("name", flat=True)) == [Role.SALES.label]
    assert User.objects.get(username="newsales").check_password(PASSWORD)


def test_password_change_page_is_chinese(client):
    user = UserFactory(role=Role.OPS)
    client.force_login(user)

    response = client.get(reverse("accounts:password-change"))

    assert "修改密码" in response.content.decode()
