"""Routes of the company workbook import flow (billing orchestrates it; paths under /customers/import/)."""

from django.urls import path

from billing.workbook import views

app_name = "customer_import"

urlpatterns = [
    path("", views.import_start, name="start"),
    path("template/", views.import_template, name="template"),
    path("<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("<int:pk>/preview/", views.import_preview, name="preview"),
    path("<int:pk>/confirm/", views.import_confirm, name="confirm"),
    path("result/<int:pk>/", views.import_result, name="result"),
]
