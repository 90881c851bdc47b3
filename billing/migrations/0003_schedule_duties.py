"""Beat entries of the scheduler's duties (billing.schedules.DUTIES); idempotent."""

from django.db import migrations


def seed_schedules(apps, schema_editor):
    from billing.schedules.services import beat_schedules_seed

    beat_schedules_seed(apps=apps)


def remove_schedules(apps, schema_editor):
    from billing.schedules.services import DUTIES

    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__in=[d.task for d in DUTIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_freeze_triggers"),
        ("accounts", "0003_notifications_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed_schedules, remove_schedules)]
