"""The billing URL namespace: one include per domain, all under `billing:`."""

from django.urls import include, path

app_name = "billing"

urlpatterns = [
    path("", include("billing.plans.urls")),
    path("", include("billing.usage.urls")),
    path("", include("billing.bills.urls")),
    path("", include("billing.payments.urls")),
    path("", include("billing.statements.urls")),
    path("", include("billing.whatif.urls")),
    path("", include("billing.collections.urls")),
    path("", include("billing.close.urls")),
]
