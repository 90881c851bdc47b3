"""Answer /healthz before any other middleware.

Health checks come from docker-compose and monitors over plain HTTP with an
internal host name: Django's host validation (ALLOWED_HOSTS) and the HTTPS
redirect would answer them 400 or 301 whatever the system's health.
"""

from .views import healthz


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)
