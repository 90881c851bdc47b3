"""Session lifetime: Django renews the 30-minute idle cookie; this caps a session at 12 hours."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect

SESSION_STARTED_KEY = "opcms_session_started"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now = int(time.time())
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_MAX_SECONDS:
                logout(request)
                messages.info(request, "登录已超过 12 小时，请重新登录。")
                return redirect(settings.LOGIN_URL)
        return self.get_response(request)
