"""Routes of the collections desk (included by billing/urls.py)."""

from django.urls import path

from billing.collections import views

urlpatterns = [
    path("collections/", views.desk, name="collections-desk"),
    path("collections/measure/", views.measure, name="collections-measure"),
    path("collections/packages/", views.packages, name="collections-packages"),
    path("collections/packages/<int:pk>/", views.package_detail, name="collections-package"),
    path("collections/pipeline/", views.renewal_pipeline, name="collections-pipeline"),
    path(
        "collections/pipeline/plan/<int:pk>/stage/",
        views.plan_stage_move,
        name="collections-plan-stage",
    ),
    path(
        "collections/pipeline/renewal/<int:pk>/stage/",
        views.renewal_stage_move,
        name="collections-renewal-stage",
    ),
    path("collections/<int:pk>/", views.customer_follow_up, name="collections-customer"),
    path("collections/<int:pk>/statement/", views.statement_send, name="collections-statement"),
]
