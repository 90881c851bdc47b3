"""Issue 12 item 5: behind the TLS proxy each client is counted at its own address."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PROXY = "10.0.0.2"


def _login(client, user, password, forwarded_for: str | None):
    extra = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(LOGIN, {"username": user.username, "password": password}, **extra)


def test_behind_one_proxy_an_attacker_does_not_lock_the_user_out_for_everyone(
    client, ops_user, settings
):
    # given one trusted proxy in front of the app
    settings.OPCMS_TRUSTED_PROXY_COUNT = 1
    # when an attacker fails five times from their own address
    for _ in range(5):
        _login(client, ops_user, "wrong", "203.0.113.66")
    # then the real user, coming through the same proxy from elsewhere, still logs in
    response = _login(client, ops_user, PASSWORD, "198.51.100.7")
    assert response.status_code == 302


def test_a_forged_forwarded_for_entry_does_not_escape_the_lockout(client, ops_user, settings):
    # given one trusted proxy, which appends the real address after whatever the client sent
    settings.OPCMS_TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        _login(client, ops_user, "wrong", f"192.0.2.{n}, 203.0.113.66")
    # when the attacker forges yet another left-hand entry
    response = _login(client, ops_user, PASSWORD, "192.0.2.99, 203.0.113.66")
    # then they are still locked out: only the proxy's entry counts
    assert response.status_code == 429


def test_without_trusted_proxies_the_header_is_ignored(client, ops_user, settings):
    # given no trusted proxy (direct exposure): the socket address counts, not the header
    settings.OPCMS_TRUSTED_PROXY_COUNT = 0
    for n in range(5):
        _login(client, ops_user, "wrong", f"192.0.2.{n}")
    # a fresh header does not buy new attempts
    assert _login(client, ops_user, PASSWORD, "198.51.100.7").status_code == 429
