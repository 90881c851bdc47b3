"""Reads for accounts: jobs a user may see, audit entries."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.db.models import QuerySet

from .models import Job, User
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
