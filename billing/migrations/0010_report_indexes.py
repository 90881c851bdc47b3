"""The money data version (billing/data_version.py): statement-level triggers that move a
sequence on every write to what reports sum, so report aggregates can be cached safely."""

from django.db import migrations

from billing.data_version import POSTGRES_INSTALL, POSTGRES_UNINSTALL


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0009_line_guards_per_statement"),
        ("customers", "0005_customer_groups"),
        ("accounts", "0005_notification_kinds"),
    ]

    operations = [migrations.RunSQL(POSTGRES_INSTALL, POSTGRES_UNINSTALL)]
