"""Customer models recorded by django-auditlog.

Batch services write with QuerySet.update()/bulk_create, which auditlog cannot
see; they record their own entries (customers.services._audit_bulk).
"""

from auditlog.registry import auditlog

from .models import (
    AttentionItem,
    Competitor,
    Contact,
    CooperationDetail,
    CooperationStatusMapping,
    Customer,
    DictionaryItem,
    FollowUpNote,
    GradeThresholds,
    LifecycleChange,
    QualityIssue,
    Renewal,
    Tag,
)

auditlog.register(Customer, m2m_fields={"ops_owners", "tags"})
auditlog.register(DictionaryItem)
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
