"""Background work for reports: keep the all-customers cockpit warm, build large exports."""

from celery import shared_task
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, Scope, effective_scope
from accounts.services import job_run

from .selectors import cockpit_cached
from .services import receivables_export_run


@shared_task(name="reports.cockpit_warm")
def cockpit_warm_task() -> bool:
    """Recompute the cockpit for the all-customers scope; False when nobody has that scope."""
    for user in User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.ADMIN]):
        if effective_scope(user) == Scope.ALL:
            cockpit_cached(user, today=timezone.localdate(), refresh=True)
            return True
    return False


@shared_task(name="reports.receivables_export")
def receivables_export_task(job_id: int) -> None:
    job_run(job_id=job_id, work=receivables_export_run)
