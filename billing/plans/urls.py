"""Routes of price plans (included by billing/urls.py, namespace `billing`)."""

from django.urls import path

from billing.plans import views

urlpatterns = [
    path("customers/<int:pk>/plans/new/", views.plan_create_view, name="plan-create"),
    path("plans/<int:plan_pk>/edit/", views.plan_edit, name="plan-edit"),
]
