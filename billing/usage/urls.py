"""Routes of usage (included by billing/urls.py, namespace `billing`)."""

from django.urls import path

from billing.usage import views

urlpatterns = [
    path("customers/<int:pk>/usage/", views.customer_usage, name="customer-usage"),
    path("usage/import/", views.usage_import, name="usage-import"),
    path("usage/import/<int:pk>/", views.usage_import_preview, name="usage-import-preview"),
]
