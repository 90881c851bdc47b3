"""Data: the three device series of the business (X, N, L); admins can edit or add more."""

from django.db import migrations

SERIES = [("X", "X 系列"), ("N", "N 系列"), ("L", "L 系列")]


def seed(apps, schema_editor):
    DeviceSeries = apps.get_model("billing", "DeviceSeries")
    for order, (code, name) in enumerate(SERIES):
        DeviceSeries.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_billline_floor_type")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
