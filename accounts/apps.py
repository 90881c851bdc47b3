from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        from opcms.lookups import install_lookups
        from opcms.tables import install_signature_cache

        from . import audit  # noqa: F401  registers models with auditlog

        install_signature_cache()  # every table renders faster (opcms/tables.py)
        install_lookups()  # `ilike_contains`, the search boxes' case-insensitive match
