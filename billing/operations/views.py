from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from .health import WEB_CHECKS, health_report


@never_cache
def healthz(request):
    """JSON for monitors and docker-compose: 200 when every check passes, else 503.

    `?scope=web` checks only what the web process itself needs (the compose health
    check of `web`); without it the worker heartbeat and the backup's age count too.
    No secrets and no figures beyond ages are shown: the page is public.
    """
    report = health_report(only=WEB_CHECKS if request.GET.get("scope") == "web" else None)
    return JsonResponse(report, status=200 if report["ok"] else 503)
