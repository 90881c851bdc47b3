"""Customer models recorded by django-auditlog."""

from auditlog.registry import auditlog

from .models import CooperationStatusMapping, Customer, DictionaryItem

auditlog.register(Customer, m2m_fields={"ops_owners"})
auditlog.register(DictionaryItem)
auditlog.register(CooperationStatusMapping)
