"""Routes of the customer export flow (the workbook import is billing's: billing/workbook/urls.py)."""

from django.urls import path

from . import views_io

urlpatterns: list = [
    path("export/", views_io.export_start, name="export-start"),
    path("export/<int:pk>/", views_io.export_result, name="export-result"),
]
