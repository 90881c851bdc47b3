from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "计价与结算"

    def ready(self) -> None:
        from . import audit, tasks  # noqa: F401  (tasks registers the Celery tasks)
