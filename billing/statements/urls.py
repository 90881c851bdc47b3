"""Routes of the statement (对账单) (included by billing/urls.py, namespace `billing`)."""

from django.urls import path

from billing.statements import views

urlpatterns = [
    path("statements/", views.statement, name="statement"),
    path("statements/xlsx/", views.statement_xlsx, name="statement-xlsx"),
    path("statements/pdf/", views.statement_pdf, name="statement-pdf"),
]
