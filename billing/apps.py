from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "计价与结算"

    def ready(self) -> None:
        from . import audit, receipts  # noqa: F401  (receipts registers its Celery task)
