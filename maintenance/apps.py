from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    """Operations over the whole system: backup and restore, health checks."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "maintenance"
    verbose_name = "运维"
