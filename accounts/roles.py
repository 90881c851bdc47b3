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
        return Scope.TEAM if led_team_ids(user) else Scope.OWN
    return Scope.ALL


def has_role(user: Any, *roles: str) -> bool:
    return role_of(user) in roles


def is_admin(user: Any) -> bool:
    return has_role(user, Role.ADMIN)


def can_view_audit(user: Any) -> bool:
    """Admins and managers read the whole audit log; ops too (their data scope is every
    customer, so "within their scope" is all of it)."""
    return has_role(user, Role.ADMIN, Role.MANAGER, Role.OPS)


def can_manage_users(user: Any) -> bool:
    return has_role(user, Role.ADMIN)


def can_use_admin_site(user: Any) -> bool:
    return has_role(user, Role.ADMIN) and user.is_staff


LED_TEAMS_ATTRIBUTE = "_opcms_led_team_ids"


def led_team_ids(user: Any) -> frozenset[int]:
    """The teams a salesperson leads (empty for everyone else).

    Read once per user object and kept on it: a request's scope rules ask several times
    (every scoped query, every can_* check), a query each before. A request loads its
    user afresh, so a change of team lead shows from the next request on.
    """
    if not has_role(user, Role.SALES):
        return frozenset()
    cached = user.__dict__.get(LED_TEAMS_ATTRIBUTE)
    if cached is None:
        cached = frozenset(user.led_teams.values_list("pk", flat=True))
        user.__dict__[LED_TEAMS_ATTRIBUTE] = cached
    return cached


def can_edit_customer(user: Any, customer: Any = None) -> bool:
    """Ops and admin edit every customer in scope; sales the ones they own, and a team lead
    also the customers owned by the team's members."""
    if has_role(user, Role.ADMIN, Role.OPS):
        return True
    if has_role(user, Role.SALES):
        if customer is None or customer.sales_owner_id == user.pk:
            return True
        owner = customer.sales_owner
        return owner is not None and owner.team_id in led_team_ids(user)
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


def can_manage_groups(user: Any) -> bool:
    """Create head-office groups (集团) and choose their members."""
    return has_role(user, Role.ADMIN, Role.OPS)


def can_run_whatif(user: Any) -> bool:
    """Re-price past months with a candidate plan (reads only; applying needs can_manage_plans)."""
    return has_role(user, Role.ADMIN, Role.MANAGER, Role.OPS)


def can_manage_billing(user: Any) -> bool:
    """Enter usage, generate, issue and reverse bills, record and allocate payments."""
    return has_role(user, Role.ADMIN, Role.OPS)


def can_view_reports(user: Any) -> bool:
    return role_of(user) is not None


def can_view_scorecard(user: Any) -> bool:
    """The KPI scorecard: company-wide figures and every colleague's activity, for managers
    and admins, and for ops (the brief gives ops 全部报表 and all customers). Sales see
    personal reports only, so not this page."""
    return has_role(user, Role.ADMIN, Role.MANAGER, Role.OPS)


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


# --- Customer archive depth (issue 18) ---


def can_configure_archive(user: Any) -> bool:
    """In-app settings of the archive: dictionaries and the 合作状态 → lifecycle mapping."""
    return has_role(user, Role.ADMIN, Role.OPS)


def can_manage_issue_categories(user: Any) -> bool:
    """The Q&A category list is maintained by admins."""
    return has_role(user, Role.ADMIN)


def can_set_field_visibility(user: Any) -> bool:
    """Which sensitive fields each role sees (contact phone/email, money figures)."""
    return has_role(user, Role.ADMIN)


def can_search_issues(user: Any) -> bool:
    """Search and statistics of Q&A across customers, always within the user's scope."""
    return role_of(user) is not None


def field_visibility_applies(user: Any) -> bool:
    """Admins always see every field, so they cannot hide a field from themselves."""
    return not has_role(user, Role.ADMIN)


# --- collections desk (issue 15) ---


def can_follow_up_collections(user: Any) -> bool:
    """Log contacts, record promises and send statements for overdue customers in scope."""
    return has_role(user, Role.ADMIN, Role.OPS, Role.SALES)


# --- month-end close (issue 14) ---


def can_close_period(user: Any) -> bool:
    """See the close checklist, confirm no-usage months, acknowledge anomalies, close a month."""
    return has_role(user, Role.ADMIN, Role.OPS)


def can_override_close_gate(user: Any) -> bool:
    """Let a red gate pass with a reason, or close with --force-reason."""
    return has_role(user, Role.ADMIN)


def can_reopen_period(user: Any) -> bool:
    return has_role(user, Role.ADMIN)
