"""API permissions: thin wrappers over the predicates of accounts/roles.py."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from accounts.roles import role_of


class HasRole(BasePermission):
    """Signed in and holding a role: a user without one sees nothing on the web either."""

    message = "没有权限执行此操作"

    def has_permission(self, request: Any, view: Any) -> bool:
        return role_of(request.user) is not None


def predicate_permission(predicate: Any, *, name: str) -> type[BasePermission]:
    """A permission class from a `can_*(user)` predicate of accounts/roles.py."""

    def has_permission(self: Any, request: Any, view: Any) -> bool:
        return role_of(request.user) is not None and bool(predicate(request.user))

    return type(
        name, (BasePermission,), {"has_permission": has_permission, "message": "没有权限执行此操作"}
    )
