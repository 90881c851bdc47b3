"""Routes of payments, allocations (核销), reversals and statements."""

from django.urls import path

from . import views_payments as views

urlpatterns: list = [
    path("payments/", views.payment_list, name="payment-list"),
    path("payments/new/", views.payment_create, name="payment-create"),
    path("payments/import/", views.receipt_import, name="receipt-import"),
    path("payments/import/<int:pk>/", views.receipt_preview, name="receipt-preview"),
    path("payments/<int:pk>/", views.payment_detail, name="payment-detail"),
    path("payments/<int:pk>/allocate/", views.payment_allocate, name="payment-allocate"),
    path(
        "payments/<int:pk>/allocate-oldest/",
        views.payment_allocate_oldest,
        name="payment-allocate-oldest",
    ),
    path("allocations/<int:pk>/undo/", views.allocation_undo, name="allocation-undo"),
    path("bills/<int:pk>/reconcile/", views.bill_reconcile, name="bill-reconcile"),
    path("bills/<int:pk>/issue/", views.bill_issue, name="bill-issue"),
    path("bills/<int:pk>/reverse/", views.bill_reverse, name="bill-reverse"),
    path("bills/<int:pk>/apply-credit/", views.bill_apply_credit, name="bill-apply-credit"),
    path("bills/<int:pk>/lines/add/", views.bill_add_line, name="bill-add-line"),
    path("bills/issue-period/", views.bills_issue_period, name="bills-issue-period"),
    path("statements/", views.statement, name="statement"),
    path("statements/xlsx/", views.statement_xlsx, name="statement-xlsx"),
    path("statements/pdf/", views.statement_pdf, name="statement-pdf"),
]
