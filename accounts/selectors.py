"""Reads for accounts: jobs a user may see, audit entries."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.db.models import QuerySet

from .models import (
    Job,
    Notification,
    NotificationKind,
    ScheduleRun,
    User,
    WebhookDelivery,
)
from .roles import Role, can_view_audit, has_role


def jobs_visible_to(user: User) -> QuerySet[Job]:
    """Admins see every job; everyone else the jobs they started."""
    if has_role(user, Role.ADMIN):
        return Job.objects.all()
    if not user.is_authenticated:
        return Job.objects.none()
    return Job.objects.filter(created_by=user)


def audit_entries_visible_to(user: User) -> QuerySet[LogEntry]:
    if not can_view_audit(user):
        return LogEntry.objects.none()
    return LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp")


# --- notifications, schedules, webhooks (issue 13) ---


def notifications_for(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    """A user's inbox: only their own notifications, newest first."""
    if not user.is_authenticated:
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient=user, in_inbox=True)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def unread_count(user: User) -> int:
    """The bell's number: one COUNT over the partial index of unread inbox rows."""
    return notifications_for(user, unread_only=True).count()


def notification_preferences_table(user: User) -> list[dict]:
    """One row per kind with the user's choice (the defaults where they made none)."""
    from .notifications import preferences_for

    rows = []
    for kind in NotificationKind:
        pref = preferences_for([user], kind)[user.pk]
        rows.append(
            {"kind": kind.value, "label": kind.label, "in_app": pref.in_app, "email": pref.email}
        )
    return rows


def periodic_tasks() -> QuerySet:
    from django_celery_beat.models import PeriodicTask

    return PeriodicTask.objects.select_related("crontab", "interval").order_by("name")


def schedule_runs_recent(limit: int = 30) -> QuerySet[ScheduleRun]:
    return ScheduleRun.objects.select_related("job").order_by("-created_at")[:limit]


def webhook_deliveries_recent(limit: int = 50) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.select_related("subscription", "channel__team").order_by(
        "-created_at", "-id"
    )[:limit]
