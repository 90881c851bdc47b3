"""JWT lifecycle: obtain, refresh with rotation, logout, lockout; same accounts as the web."""

import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

OBTAIN = "/api/token/"
REFRESH = "/api/token/refresh/"
LOGOUT = "/api/token/logout/"


def obtain(client, username, password=PASSWORD):
    return client.post(OBTAIN, {"username": username, "password": password}, format="json")


def test_obtain_returns_an_access_and_a_refresh_token(api_client, ops_user):
    response = obtain(api_client, ops_user.username)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_access_token_opens_the_api(api_client, ops_user):
    access = obtain(api_client, ops_user.username).json()["access"]

    response = api_client.get("/api/jobs/", HTTP_AUTHORIZATION=f"Bearer {access}")

    assert response.status_code == 200


def test_wrong_password_answers_401_in_the_error_format(api_client, ops_user):
    response = obtain(api_client, ops_user.username, "wrong")

    assert response.status_code == 401
    assert response.json() == {
        "code": "no_active_account",
        "message": "用户名或密码错误，或账号已停用",
        "fields": {},
    }


def test_inactive_user_gets_no_token(api_client):
    user = UserFactory(username="gone", is_active=False)

    assert obtain(api_client, user.username).status_code == 401


def test_refresh_rotates_and_the_old_refresh_token_is_refused(api_client, ops_user):
    first = obtain(api_client, ops_user.username).json()

    rotated = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    replayed = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "token_not_valid"
    assert replayed.json()["message"] == "令牌无效或已过期，请重新获取"


def test_the_new_refresh_token_keeps_working(api_client, ops_user):
    first = obtain(api_client, ops_user.username).json()
    second = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json").json()

    third = api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json")

    assert third.status_code == 200


def test_logout_blacklists_the_refresh_token(api_client, ops_user):
    tokens = obtain(api_client, ops_user.username).json()

    logout = api_client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")
    refresh = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert logout.status_code == 204
    assert refresh.status_code == 401
    assert refresh.json()["code"] == "token_not_valid"


def test_logout_with_a_garbage_token_is_401(api_client):
    response = api_client.post(LOGOUT, {"refresh": "not-a-token"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_missing_token_answers_401_in_chinese(api_client):
    response = api_client.get("/api/jobs/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "访问令牌" in response.json()["message"]


def test_garbage_bearer_token_answers_401(api_client):
    response = api_client.get("/api/jobs/", HTTP_AUTHORIZATION="Bearer abc.def.ghi")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_user_without_a_role_is_refused(client_for):
    user = UserFactory(username="norole", role="")

    response = client_for(user).get("/api/jobs/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_axes_counts_api_failures_and_locks_the_username(api_client, ops_user):
    for _ in range(4):
        assert obtain(api_client, ops_user.username, "wrong").status_code == 401
    assert obtain(api_client, ops_user.username, "wrong").status_code == 429

    response = obtain(api_client, ops_user.username)

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "锁定" in response.json()["message"]


def test_axes_success_resets_failures(api_client, ops_user):
    for _ in range(4):
        obtain(api_client, ops_user.username, "wrong")
    assert obtain(api_client, ops_user.username).status_code == 200

    for _ in range(4):
        obtain(api_client, ops_user.username, "wrong")

    assert obtain(api_client, ops_user.username).status_code == 200


def test_access_tokens_are_short_lived_and_refused_once_expired(api_client, ops_user):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(ops_user)
    lifetime = token["exp"] - token["iat"]
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))

    response = api_client.get("/api/jobs/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert lifetime <= 15 * 60
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_token_stops_working_when_the_user_is_deactivated(client_for, ops_user):
    client = client_for(ops_user)
    ops_user.is_active = False
    ops_user.save()
    response = client.get("/api/jobs/")

    assert response.status_code == 401
    assert response.json()["message"] == "账号已停用"
