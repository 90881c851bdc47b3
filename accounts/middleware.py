"""Session lifetime: a session ends after 30 minutes idle and after 12 hours in all.

The idle limit is the session's expiry (SESSION_COOKIE_AGE from its last save, in the
session row and the cookie alike). Saving the session on every request kept it exact but
cost a database write (and its commit) on every page; the session is now saved when its
expiry would move by SESSION_RENEW_AFTER_SECONDS or more, so a session ends between 29
and 30 minutes after its last request, never later.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils import timezone

SESSION_STARTED_KEY = "opcms_session_started"
SESSION_RENEWED_KEY = "opcms_session_renewed"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = int(timezone.now().timestamp())
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_MAX_SECONDS:
                logout(request)
                messages.info(request, "登录已超过 12 小时，请重新登录。")
                return redirect(settings.LOGIN_URL)
        response = self.get_response(request)
        renew_idle_expiry(request.session, now)
        return response


def renew_idle_expiry(session, now: int) -> None:
    """Mark the session for saving (SessionMiddleware then writes it and resends the
    cookie, both expiring SESSION_COOKIE_AGE from now) when it is already being saved or
    its last save is SESSION_RENEW_AFTER_SECONDS old. An empty session (an anonymous
    visitor, a logout) stays unsaved, as Django leaves it."""
    renewed = session.get(SESSION_RENEWED_KEY, 0)
    if session.is_empty():  # after loading: a cookie may name a session that has expired
        return
    if session.modified or now - renewed >= settings.SESSION_RENEW_AFTER_SECONDS:
        session[SESSION_RENEWED_KEY] = now
