"""Navigation for the one layout: which sections the current user may open."""

import functools

from django.contrib.auth.models import AnonymousUser

from . import roles
from .selectors import unread_count


def navigation(request):
    # The 400 page for a bad Host header is rendered before AuthenticationMiddleware
    # has run, so there may be no request.user yet.
    user = getattr(request, "user", None) or AnonymousUser()
    return {
        "nav_role_label": roles.Role(roles.role_of(user)).label if roles.role_of(user) else "",
        "nav_can_audit": roles.can_view_audit(user),
        "nav_can_admin": roles.can_use_admin_site(user),
        "nav_can_manage_billing": roles.can_manage_billing(user),
        "nav_can_import": roles.can_import(user),
        "nav_can_whatif": roles.can_run_whatif(user),
        "nav_can_schedules": roles.can_manage_schedules(user),
        "nav_can_close": roles.can_close_period(user),
        "nav_can_scorecard": roles.can_view_scorecard(user),
        "nav_can_webhooks": roles.can_manage_webhooks(user),
        # A callable: the template evaluates it only where the bell is drawn, and the
        # two bells (menu and phone bar) share the one COUNT.
        "nav_unread_count": functools.cache(lambda: unread_count(user))
        if user.is_authenticated
        else 0,
        "nav_can_configure": roles.can_configure_archive(user)
        or roles.can_set_grade_thresholds(user),
    }
