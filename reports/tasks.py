"""Background work for reports: keep the all-customers cockpit warm, build large exports."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, Scope, effective_scope
from accounts.services import job_run

from .selectors import (
    SCORECARD_WARM_AFTER,
    cockpit_cached,
    measure_summary_cached,
    scorecard_cached,
    top_window_keep,
)
from .services import receivables_export_run


@shared_task(name="reports.cockpit_warm")
def cockpit_warm_task() -> bool:
    """Recompute the cockpit for the all-customers scope, and the scorecard when its copy is
    getting old; False when nobody has that scope. When the month has turned, the customers'
    billed totals move to the new twelve months first."""
    top_window_keep(timezone.localdate())
    for user in User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.ADMIN]):
        if effective_scope(user) == Scope.ALL:
            today = timezone.localdate()
            cockpit_cached(user, today=today, refresh=True)
            # and the 24-hour measure over the cockpit's default period (the last 30 days)
            measure_summary_cached(
                user, date_from=today - timedelta(days=29), date_to=today, refresh=True
            )
            scorecard = scorecard_cached(user, today=today)
            if timezone.now() - scorecard["computed_at"] > SCORECARD_WARM_AFTER:
                scorecard_cached(user, today=today, refresh=True)
            return True
    return False


@shared_task(name="reports.receivables_export")
def receivables_export_task(job_id: int) -> None:
    job_run(job_id=job_id, work=receivables_export_run)
