from django.urls import path

from . import views

urlpatterns = [
    path("price-plans/", views.PricePlanListView.as_view(), name="plan-list"),
    path("price-plans/create/", views.PricePlanCreateView.as_view(), name="plan-create"),
    path("price-plans/<int:pk>/", views.PricePlanDetailView.as_view(), name="plan-detail"),
    path("price-plans/<int:pk>/update/", views.PricePlanUpdateView.as_view(), name="plan-update"),
    path(
        "price-plans/<int:pk>/new-version/",
        views.PricePlanNewVersionView.as_view(),
        name="plan-new-version",
    ),
    path("usage/", views.UsageListView.as_view(), name="usage-list"),
    path("usage/ingest/", views.UsageIngestView.as_view(), name="usage-ingest"),
    path("bills/", views.BillListView.as_view(), name="bill-list"),
    path("bills/generate/", views.BillGenerateView.as_view(), name="bill-generate"),
    path("bills/<int:pk>/", views.BillDetailView.as_view(), name="bill-detail"),
    path("payments/", views.PaymentListView.as_view(), name="payment-list"),
    path("payments/create/", views.PaymentCreateView.as_view(), name="payment-create"),
    path("payments/<int:pk>/", views.PaymentDetailView.as_view(), name="payment-detail"),
    path(
        "payments/<int:pk>/allocate/", views.PaymentAllocateView.as_view(), name="payment-allocate"
    ),
    path(
        "payments/<int:pk>/allocate-oldest/",
        views.PaymentAllocateOldestView.as_view(),
        name="payment-allocate-oldest",
    ),
    path("allocations/<int:pk>/undo/", views.AllocationUndoView.as_view(), name="allocation-undo"),
]
