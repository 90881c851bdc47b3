"""Routes of payments, allocations (核销) and bank receipts (included by billing/urls.py)."""

from django.urls import path

from billing.payments import views

urlpatterns = [
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
]
