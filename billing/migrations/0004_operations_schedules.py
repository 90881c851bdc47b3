"""Register the worker heartbeat and the stuck-job sweeper with django-celery-beat."""

from django.conf import settings
from django.db import migrations

from billing.operations.schedules import schedules_install, schedules_remove


def add_schedule(apps, schema_editor):
    schedules_install(
        periodic_task=apps.get_model("django_celery_beat", "PeriodicTask"),
        crontab_schedule=apps.get_model("django_celery_beat", "CrontabSchedule"),
        interval_schedule=apps.get_model("django_celery_beat", "IntervalSchedule"),
        timezone=settings.TIME_ZONE,
    )


def remove_schedule(apps, schema_editor):
    schedules_remove(periodic_task=apps.get_model("django_celery_beat", "PeriodicTask"))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_schedule_duties"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
