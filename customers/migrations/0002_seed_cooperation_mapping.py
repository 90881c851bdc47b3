"""Seed the default 合作状态 → lifecycle mapping for the texts of the company workbook.

Admins edit the table afterwards; the seed only adds missing texts, so it keeps
their edits on re-run. The texts live in customers.lifecycle and the seed in
customers.services so tests and demo seeding can restore them after a flush.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from customers.services import cooperation_mapping_seed_defaults

    cooperation_mapping_seed_defaults(
        model=apps.get_model("customers", "CooperationStatusMapping")
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
