from django.db import migrations

from billing.freeze import install_freeze_triggers, uninstall_freeze_triggers


def forwards(apps, schema_editor):
    install_freeze_triggers(schema_editor.connection)


def backwards(apps, schema_editor):
    uninstall_freeze_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
