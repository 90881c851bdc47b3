from django.urls import path

from . import urls_payments, views

app_name = "billing"

# Plans, usage and bills. Payments, reconciliation and statements live in urls_payments.
urlpatterns = [
    path("bills/", views.bill_list, name="bill-list"),
    path("bills/generate/", views.bill_generate, name="bill-generate"),
    path("bills/<int:pk>/", views.bill_detail, name="bill-detail"),
    path(
        "bills/<int:pk>/lines/<int:line_pk>/usage/",
        views.bill_line_usage_view,
        name="bill-line-usage",
    ),
    path("customers/<int:pk>/usage/", views.customer_usage, name="customer-usage"),
    path("customers/<int:pk>/summary/", views.customer_summary, name="customer-summary"),
    path("customers/<int:pk>/plans/new/", views.plan_create_view, name="plan-create"),
    path("plans/<int:plan_pk>/edit/", views.plan_edit, name="plan-edit"),
    path("usage/import/", views.usage_import, name="usage-import"),
    path("usage/import/<int:pk>/", views.usage_import_preview, name="usage-import-preview"),
    *urls_payments.urlpatterns,
]
