"""Routes of bills (included by billing/urls.py, namespace `billing`)."""

from django.urls import path

from billing.bills import views

urlpatterns = [
    path("bills/", views.bill_list, name="bill-list"),
    path("bills/generate/", views.bill_generate, name="bill-generate"),
    path("bills/issue-period/", views.bills_issue_period, name="bills-issue-period"),
    path("bills/<int:pk>/", views.bill_detail, name="bill-detail"),
    path(
        "bills/<int:pk>/lines/<int:line_pk>/usage/",
        views.bill_line_usage_view,
        name="bill-line-usage",
    ),
    path("bills/<int:pk>/reconcile/", views.bill_reconcile, name="bill-reconcile"),
    path("bills/<int:pk>/issue/", views.bill_issue, name="bill-issue"),
    path("bills/<int:pk>/reverse/", views.bill_reverse, name="bill-reverse"),
    path("bills/<int:pk>/apply-credit/", views.bill_apply_credit, name="bill-apply-credit"),
    path("bills/<int:pk>/lines/add/", views.bill_add_line, name="bill-add-line"),
    path("customers/<int:pk>/summary/", views.customer_summary, name="customer-summary"),
]
