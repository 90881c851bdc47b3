from . import urls_payments

app_name = "billing"

# Plans, usage and bills. Payments, reconciliation and statements live in urls_payments.
urlpatterns = [
    *urls_payments.urlpatterns,
]
