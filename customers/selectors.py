"""Reads for customers. `scoped_customers` is the one door every customer read passes through."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.roles import Scope, effective_scope

from .models import Customer


def scope_filter(user: Any, *, prefix: str = "") -> Q | None:
    """The data-scope condition as a Q over `<prefix>sales_owner`, or None for "everything".

    Returns Q(pk__in=[]) for a user who may see nothing. `prefix` lets other
    apps filter their own rows by their customer (e.g. "customer__").
    """
    scope = effective_scope(user)
    if scope == Scope.ALL:
        return None
    if scope == Scope.OWN:
        return Q(**{f"{prefix}sales_owner_id": user.pk})
    if scope == Scope.TEAM:
        team_ids = {t.pk for t in user.led_teams.all()}
        if user.team_id:
            team_ids.add(user.team_id)
        return Q(**{f"{prefix}sales_owner__team_id__in": team_ids}) | Q(
            **{f"{prefix}sales_owner_id": user.pk}
        )
    return Q(pk__in=[])


def scoped_customers(user: Any, *, include_deleted: bool = False) -> QuerySet[Customer]:
    """The customers `user` may see: own, team or all, by their data scope. Soft-deleted excluded."""
    qs = Customer.objects.all()
    if not include_deleted:
        qs = qs.filter(is_deleted=False)
    condition = scope_filter(user)
    if condition is not None:
        qs = qs.filter(condition)
    return qs
