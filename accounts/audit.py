"""Which accounts models django-auditlog records. Every app registers its own models."""

from auditlog.registry import auditlog

from .models import Team, User

auditlog.register(User, exclude_fields=["password", "last_login"])
auditlog.register(Team)
