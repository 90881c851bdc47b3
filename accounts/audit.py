"""Which accounts models django-auditlog records. Every app registers its own models."""

from auditlog.registry import auditlog
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from .models import Team, TeamChannel, User, WebhookSubscription

auditlog.register(User, exclude_fields=["password", "last_login"])
auditlog.register(Team)
auditlog.register(TeamChannel, exclude_fields=["secret"])
auditlog.register(WebhookSubscription, exclude_fields=["secret"])
# The schedules page changes beat's own rows: who switched a duty off, who moved it.
auditlog.register(PeriodicTask, include_fields=["enabled", "crontab", "name"])
auditlog.register(CrontabSchedule)
