"""The REST API under /api/: JWT auth, per-app endpoints, OpenAPI schema and docs."""

from csp.constants import SELF
from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts.api.errors import api_not_found

app_name = "api"

# The docs pages are the only ones whose policy is relaxed, and only for styles:
# Swagger UI and Redoc (vendored by drf-spectacular-sidecar) write <style> blocks and
# style attributes at run time, and Redoc parses the schema in a blob: web worker.
# Scripts stay 'self' only: the split Swagger view serves its start-up script as a file
# instead of an inline block, and Redoc without settings needs none (api/redoc.html also
# drops the Google Fonts links: no CDN).
docs_csp = csp_update({"style-src": ["'unsafe-inline'"]})
redoc_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": [SELF, "blob:"]})

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("billing.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path(
        "redoc/",
        redoc_csp(
            SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")
        ),
        name="redoc",
    ),
    re_path(r"^.*$", api_not_found),
]
