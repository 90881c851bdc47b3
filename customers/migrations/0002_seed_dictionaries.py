"""Seed data: the three device series (X, N, L) and the default 合作状态 → lifecycle mapping.

Admins edit both afterwards; the seeds only add what is missing, so they keep
their edits on re-run. The mapping's texts live in customers.lifecycle and its
seed in customers.services so tests and demo seeding can restore them after a flush.
"""

from django.db import migrations

SERIES = [("X", "X 系列"), ("N", "N 系列"), ("L", "L 系列")]


def seed(apps, schema_editor):
    from customers.services import cooperation_mapping_seed_defaults

    DeviceSeries = apps.get_model("customers", "DeviceSeries")
    for order, (code, name) in enumerate(SERIES):
        DeviceSeries.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    cooperation_mapping_seed_defaults(
        model=apps.get_model("customers", "CooperationStatusMapping")
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
