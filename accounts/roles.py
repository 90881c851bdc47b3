"""Roles, data scopes and the can_* predicates: the one home of every role rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from .models import User


class Role(models.TextChoices):
    ADMIN = "admin", "管理员"
    MANAGER = "manager", "管理者"
    OPS = "ops", "运营"
    SALES = "sales", "销售"


class Scope(models.TextChoices):
    NONE = "none", "无"
    OWN = "own", "本人客户"
    TEAM = "team", "团队客户"
    ALL = "all", "全部客户"


def role_of(user: Any) -> str | None:
    """The user's role, or None for anonymous users and users without one."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return user.role or None


def effective_scope(user: Any) -> Scope:
    """The data scope in force: an explicit per-user scope wins over the role's default.

    Defaults: sales see their own customers, a sales lead the team's, everyone
    else all; a user with no role sees nothing.
    """
    role = role_of(user)
    if role is None:
        return Scope.NONE
    if role == Role.SALES:
        if user.data_scope in (Scope.OWN, Scope.TEAM, Scope.ALL):
            return Scope(user.data_scope)
        return Scope.TEAM if user.led_teams.exists() else Scope.OWN
    return Scope.ALL


def has_role(user: Any, *roles: str) -> bool:
    return role_of(user) in roles


def is_admin(user: Any) -> bool:
    return has_role(user, Role.ADMIN)


def can_view_audit(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.MANAGER)


def can_manage_users(user: Any) -> bool:
    return has_role(user, Role.ADMIN)


def can_use_admin_site(user: Any) -> bool:
    return has_role(user, Role.ADMIN) and user.is_staff


def can_edit_customer(user: Any, customer: Any = None) -> bool:
    """Ops and admin edit every customer in scope; sales only the ones they own."""
    if has_role(user, Role.ADMIN, Role.OPS):
        return True
    if has_role(user, Role.SALES):
        return customer is None or customer.sales_owner_id == user.pk
    return False


def can_create_customer(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.OPS, Role.SALES)


def can_delete_customer(user: Any, customer: Any = None) -> bool:
    return has_role(user, Role.ADMIN)


def can_import(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.OPS)


def can_export(user: Any) -> bool:
    return role_of(user) is not None


def can_manage_plans(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.OPS)


def can_manage_billing(user: Any) -> bool:
    """Enter usage, generate, issue and reverse bills, record and allocate payments."""
    return has_role(user, Role.ADMIN, Role.OPS)


def can_view_reports(user: Any) -> bool:
    return role_of(user) is not None


def can_view_jobs_of(user: User, job_owner_id: int | None) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    return job_owner_id == user.pk


# Permissions (codenames app_label.codename) each role's group carries, so the
# Django admin and `user.has_perm` agree with the predicates above.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMIN: ["*"],
    Role.MANAGER: ["view"],
    Role.OPS: ["view", "add", "change"],
    Role.SALES: ["view"],
}


# --- Customer archive (issue 3) ---


def can_assign_owners(user: Any) -> bool:
    """Assign or change a customer's sales and ops owners: ops and admin."""
    return has_role(user, Role.ADMIN, Role.OPS)


def can_batch_edit_customers(user: Any) -> bool:
    """Batch actions on the list; sales act on their own customers only (the service checks)."""
    return has_role(user, Role.ADMIN, Role.OPS, Role.SALES)


def can_set_grade_thresholds(user: Any) -> bool:
    return has_role(user, Role.ADMIN)


# --- schedules, notifications and webhooks (issue 13) ---


def can_manage_schedules(user: Any) -> bool:
    """See and change the scheduler's duties (enable, timing) and their runs."""
    return has_role(user, Role.ADMIN)


def can_manage_webhooks(user: Any) -> bool:
    """Subscriptions of outside systems, team robots, the delivery log and replays."""
    return has_role(user, Role.ADMIN)


# --- month-end close (issue 14) ---


def can_close_period(user: Any) -> bool:
    """See the close checklist, confirm no-usage months, acknowledge anomalies, close a month."""
    return has_role(user, Role.ADMIN, Role.OPS)


def can_override_close_gate(user: Any) -> bool:
    """Let a red gate pass with a reason, or close with --force-reason."""
    return has_role(user, Role.ADMIN)


def can_reopen_period(user: Any) -> bool:
    return has_role(user, Role.ADMIN)
