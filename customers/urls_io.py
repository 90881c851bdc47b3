"""Routes of the customer import and export flows."""

from django.urls import path

from . import views_io

urlpatterns: list = [
    path("import/", views_io.import_start, name="import-start"),
    path("import/template/", views_io.import_template, name="import-template"),
    path("import/<int:pk>/mapping/", views_io.import_mapping, name="import-mapping"),
    path("import/<int:pk>/preview/", views_io.import_preview, name="import-preview"),
    path("import/<int:pk>/confirm/", views_io.import_confirm, name="import-confirm"),
    path("import/result/<int:pk>/", views_io.import_result, name="import-result"),
    path("export/", views_io.export_start, name="export-start"),
    path("export/<int:pk>/", views_io.export_result, name="export-result"),
]
