"""Database triggers that freeze issued bills (billing/freeze.py), and the three device series.

The series X, N and L are the business's scanners; admins can edit or add more.
"""

from django.db import migrations

from billing.freeze import POSTGRES_INSTALL, POSTGRES_UNINSTALL

SERIES = [("X", "X 系列"), ("N", "N 系列"), ("L", "L 系列")]


def seed_series(apps, schema_editor):
    DeviceSeries = apps.get_model("billing", "DeviceSeries")
    for order, (code, name) in enumerate(SERIES):
        DeviceSeries.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        migrations.RunSQL(POSTGRES_INSTALL, POSTGRES_UNINSTALL),
        migrations.RunPython(seed_series, migrations.RunPython.noop),
    ]
