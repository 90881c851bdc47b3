"""Navigation for the one layout: which sections the current user may open."""

from . import roles
from .selectors import unread_count


def navigation(request):
    user = request.user
    return {
        "nav_role_label": roles.Role(roles.role_of(user)).label if roles.role_of(user) else "",
        "nav_can_audit": roles.can_view_audit(user),
        "nav_can_admin": roles.can_use_admin_site(user),
        "nav_can_manage_billing": roles.can_manage_billing(user),
        "nav_can_import": roles.can_import(user),
        "nav_can_schedules": roles.can_manage_schedules(user),
        "nav_can_close": roles.can_close_period(user),
        "nav_can_webhooks": roles.can_manage_webhooks(user),
        # A callable: the template evaluates it only where the bell is drawn (one COUNT).
        "nav_unread_count": (lambda: unread_count(user)) if user.is_authenticated else 0,
    }
