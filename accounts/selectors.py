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


def audit_entries_filtered(user: User, *, filters: dict) -> QuerySet[LogEntry]:
    """Audit entries visible to `user`, narrowed by the cleaned audit filter form."""
    qs = audit_entries_visible_to(user)
    if filters.get("actor"):
        qs = qs.filter(actor=filters["actor"])
    if filters.get("content_type"):
        qs = qs.filter(content_type=filters["content_type"])
    if filters.get("action") is not None:
        qs = qs.filter(action=filters["action"])
    if filters.get("date_from"):
        qs = qs.filter(timestamp__date__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(timestamp__date__lte=filters["date_to"])
    if filters.get("q"):
        qs = qs.filter(object_repr__icontains=filters["q"])
    return qs
