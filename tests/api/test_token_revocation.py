"""Issue 12 item 2: tokens end with a password change or a deactivation; refresh chains end."""

from __future__ import annotations

import time

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import user_set_active, user_set_password
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

OBTAIN = "/api/token/"
REFRESH = "/api/token/refresh/"


def _pair(client, user) -> dict:
    response = client.post(OBTAIN, {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()


def _get_jobs(client, access):
    return client.get("/api/jobs/", HTTP_AUTHORIZATION=f"Bearer {access}")


def test_password_change_through_the_service_ends_access_and_refresh_tokens(api_client, ops_user):
    # given a token pair
    pair = _pair(api_client, ops_user)
    # when the password changes
    user_set_password(user=ops_user, password="another-secret-77")
    # then neither token works any more
    assert _get_jobs(api_client, pair["access"]).status_code == 401
    refreshed = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "token_not_valid"


def test_password_change_on_the_web_page_ends_the_tokens(api_client, client, ops_user):
    # given a token pair and the user logged in on the web
    pair = _pair(api_client, ops_user)
    client.force_login(ops_user)
    # when the user changes the password on the password page
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-Passw0rd-2026",
            "new_password2": "a-new-Passw0rd-2026",
        },
    )
    assert response.status_code == 302
    # then the old tokens are refused and the refresh token is blacklisted
    assert _get_jobs(api_client, pair["access"]).status_code == 401
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 401
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    assert not OutstandingToken.objects.filter(user=ops_user, blacklistedtoken__isnull=True)


def test_a_password_set_outside_any_service_still_ends_the_tokens(api_client, ops_user):
    # given a token pair, and a password set the way `changepassword` does
    pair = _pair(api_client, ops_user)
    ops_user.set_password("set-by-command-99")
    ops_user.save()
    # then the tokens carry the old password's hash and are refused
    assert _get_jobs(api_client, pair["access"]).status_code == 401
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 401


def test_deactivation_ends_the_refresh_token_and_reactivation_does_not_revive_it(
    api_client, ops_user
):
    # given a token pair issued a while ago
    token = RefreshToken.for_user(ops_user)
    token.set_iat(at_time=token.current_time.replace(microsecond=0) - _seconds(5))
    # when the user is deactivated and later reactivated
    user_set_active(user=ops_user, is_active=False)
    refused_inactive = api_client.post(REFRESH, {"refresh": str(token)}, format="json")
    user_set_active(user=ops_user, is_active=True)
    # then the old refresh token stays refused; a new login works
    assert refused_inactive.status_code == 401
    assert api_client.post(REFRESH, {"refresh": str(token)}, format="json").status_code == 401
    assert _get_jobs(api_client, _pair(api_client, ops_user)["access"]).status_code == 200


def test_a_new_login_right_after_a_password_change_works(api_client, ops_user):
    user_set_password(user=ops_user, password=PASSWORD)

    pair = _pair(api_client, ops_user)

    assert _get_jobs(api_client, pair["access"]).status_code == 200
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 200


def test_rotation_keeps_the_login_time_and_the_chain_ends_after_12_hours(
    api_client, ops_user, settings
):
    # given a refresh chain begun 12 hours ago (less one minute) and rotated since
    started = int(time.time()) - settings.SESSION_ABSOLUTE_MAX_SECONDS + 60
    token = RefreshToken.for_user(ops_user)
    token["auth_time"] = started
    rotated = api_client.post(REFRESH, {"refresh": str(token)}, format="json")
    assert rotated.status_code == 200
    new = RefreshToken(rotated.json()["refresh"])
    # then the rotated token remembers the login and expires with the chain
    assert new["auth_time"] == started
    assert new["exp"] <= started + settings.SESSION_ABSOLUTE_MAX_SECONDS
    # and once the 12 hours are over, refreshing is refused
    late = RefreshToken.for_user(ops_user)
    late["auth_time"] = started - 120
    assert api_client.post(REFRESH, {"refresh": str(late)}, format="json").status_code == 401


def test_refresh_of_a_deleted_user_answers_401_not_500(api_client):
    from tests.factories import UserFactory

    user = UserFactory(username="leaver")
    token = str(RefreshToken.for_user(user))
    user.delete()

    assert api_client.post(REFRESH, {"refresh": token}, format="json").status_code == 401


def _seconds(n: int):
    import datetime as dt

    return dt.timedelta(seconds=n)
