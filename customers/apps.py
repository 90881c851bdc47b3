from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "客户档案"

    def ready(self) -> None:
        from . import audit, batch_jobs  # noqa: F401 - register auditlog models and the batch task
