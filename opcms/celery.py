"""The Celery app. With no REDIS_URL, settings make every task run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opcms.settings.local")

app = Celery("opcms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
