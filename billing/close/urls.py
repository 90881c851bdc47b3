"""Routes of the month-end close (included by billing/urls.py, namespace `billing`)."""

from django.urls import path

from billing.close import views

urlpatterns = [
    path("close/", views.period_close_page, name="period-close"),
    path("close/close/", views.period_close, name="period-close-do"),
    path("close/reopen/", views.period_reopen, name="period-reopen"),
    path("close/override/", views.period_gate_override, name="period-gate-override"),
    path("close/no-usage/", views.period_no_usage, name="period-no-usage"),
    path("close/export/", views.period_export, name="period-export"),
    path("bills/<int:pk>/acknowledge/", views.bill_acknowledge, name="bill-acknowledge"),
    path("payments/<int:pk>/explain/", views.receipt_explain, name="receipt-explain"),
]
