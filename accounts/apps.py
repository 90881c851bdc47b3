from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        from . import audit  # noqa: F401  registers models with auditlog
