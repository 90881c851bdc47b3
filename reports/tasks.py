"""Scheduled work for reports: keep the all-customers cockpit warm."""

from celery import shared_task
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, Scope, effective_scope

from .selectors import cockpit_cached


@shared_task(name="reports.cockpit_warm")
def cockpit_warm_task() -> bool:
    """Recompute the cockpit for the all-customers scope; False when nobody has that scope."""
    for user in User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.ADMIN]):
        if effective_scope(user) == Scope.ALL:
            cockpit_cached(user, today=timezone.localdate(), refresh=True)
            return True
    return False
