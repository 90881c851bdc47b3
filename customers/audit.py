"""Customer models recorded by django-auditlog.

Batch services write with QuerySet.update()/bulk_create, which auditlog cannot
see; they record their own entries (customers.services._audit_bulk).
ImportedPrice is deliberately not registered: the import writes it only in
bulk (one audit entry per import, customers.importers._audit) and billing
marks it consumed in bulk, so per-row registration would never fire; the
admin shows it read-only.
"""

from auditlog.registry import auditlog

from .models import (
    AttentionItem,
    Competitor,
    Contact,
    CooperationDetail,
    CooperationStatusMapping,
    Customer,
    DeviceSeries,
    DictionaryItem,
    FollowUpNote,
    GradeThresholds,
    LifecycleChange,
    LifecycleRule,
    QualityIssue,
    Renewal,
    Tag,
)

auditlog.register(Customer, m2m_fields={"ops_owners", "tags"})
auditlog.register(DictionaryItem)
auditlog.register(DeviceSeries)
auditlog.register(CooperationStatusMapping)
for model in (
    AttentionItem,
    Competitor,
    Contact,
    CooperationDetail,
    FollowUpNote,
    GradeThresholds,
    LifecycleChange,
    QualityIssue,
    Renewal,
    Tag,
):
    auditlog.register(model)
auditlog.register(LifecycleRule)
