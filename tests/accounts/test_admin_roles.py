"""Issue 12 item 3: a role change in Django admin goes through the role service."""

from __future__ import annotations

import pytest

from accounts import roles
from accounts.roles import Role
from accounts.services import user_set_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _change_form(user, **overrides) -> dict:
    data = {
        "username": user.username,
        "full_name": user.full_name,
        "email": "",
        "role": user.role,
        "data_scope": user.data_scope,
        "team": "",
        "phone": "",
        "is_active": "on",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_demoting_an_admin_in_django_admin_removes_every_admin_right(client, admin_user):
    # given a second admin who is also a superuser, in the admin group
    target = UserFactory(username="boss2", role=Role.ADMIN, is_superuser=True)
    user_set_role(user=target, role=Role.ADMIN)
    target.is_superuser = True
    target.save()
    client.force_login(admin_user)
    # when an admin changes the role to sales on the Django admin change form
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/", _change_form(target, role=Role.SALES)
    )
    # then the user is a plain sales user: no staff flag, no superuser, only the sales group
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.role == Role.SALES
    assert not target.is_staff
    assert not target.is_superuser
    assert list(target.groups.values_list("name", flat=True)) == [Role.SALES.label]
    assert roles.role_of(target) == Role.SALES
    assert not roles.can_use_admin_site(target)


def test_the_admin_form_cannot_set_the_staff_flag_directly(client, admin_user):
    target = UserFactory(username="s5", role=Role.SALES)
    user_set_role(user=target, role=Role.SALES)
    client.force_login(admin_user)

    client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        _change_form(target, is_staff="on", is_superuser="on"),
    )

    target.refresh_from_db()
    assert not target.is_staff
    assert not target.is_superuser


def test_deactivating_in_django_admin_ends_the_users_api_tokens(client, admin_user):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    target = UserFactory(username="s6", role=Role.SALES)
    RefreshToken.for_user(target)
    client.force_login(admin_user)

    client.post(f"/admin/accounts/user/{target.pk}/change/", _change_form(target, is_active=None))

    target.refresh_from_db()
    assert not target.is_active
    assert target.tokens_valid_after is not None
    assert not OutstandingToken.objects.filter(user=target, blacklistedtoken__isnull=True)
