"""Routes of the statement (对账单) (included by billing/urls.py, namespace `billing`)."""

from django.urls import path

from billing.statements import views

urlpatterns = [
    path("statements/", views.statement, name="statement"),
    path("statements/xlsx/", views.statement_xlsx, name="statement-xlsx"),
    path("statements/pdf/", views.statement_pdf, name="statement-pdf"),
    path("statements/groups/", views.group_statement_index, name="group-statement-index"),
    path("statements/groups/<int:pk>/", views.group_statement, name="group-statement"),
    path(
        "statements/groups/<int:pk>/xlsx/", views.group_statement_xlsx, name="group-statement-xlsx"
    ),
    path("statements/groups/<int:pk>/pdf/", views.group_statement_pdf, name="group-statement-pdf"),
]
