"""Database triggers that freeze issued bills (billing/freeze.py)."""

from django.db import migrations

from billing.freeze import POSTGRES_INSTALL, POSTGRES_UNINSTALL


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(POSTGRES_INSTALL, POSTGRES_UNINSTALL)]
