from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("cockpit/", views.cockpit, name="cockpit"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("receivables/", views.receivables, name="receivables"),
    path("receivables/export/", views.receivables_export, name="receivables-export"),
    path("payments/", views.payments, name="payments"),
    path("settlement/", views.settlement, name="settlement"),
    path("period-finance/export/", views.period_finance_export, name="period-finance-export"),
]
