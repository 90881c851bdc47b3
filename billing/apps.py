from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reinstall_sqlite_freeze_triggers(sender, using="default", **kwargs) -> None:
    # SQLite loses triggers whenever a migration rebuilds billing_bill/_billline.
    from django.db import connections

    from .freeze import install_freeze_triggers

    connection = connections[using]
    if connection.vendor == "sqlite":
        install_freeze_triggers(connection)


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "计价与结算"

    def ready(self) -> None:
        from . import audit, tasks  # noqa: F401  (tasks registers the Celery tasks)

        post_migrate.connect(_reinstall_sqlite_freeze_triggers, sender=self)
