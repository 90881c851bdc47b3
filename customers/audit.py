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
    AdAccount,
    AttentionItem,
    BusinessProfile,
    Competitor,
    Contact,
    CooperationDetail,
    CooperationStatusMapping,
    Customer,
    DeviceSeries,
    DictionaryItem,
    FollowUpNote,
    GradeThresholds,
    HiddenField,
    IssueAction,
    IssueAttachment,
    IssueCategory,
    LifecycleChange,
    LifecycleRule,
    Project,
    QualityIssue,
    Renewal,
    Tag,
    WebsiteInfo,
)

auditlog.register(Customer, m2m_fields={"ops_owners", "tags", "regions"})
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
    # Issue 18: profile sections, projects, ad accounts, Q&A extras and the settings.
    AdAccount,
    BusinessProfile,
    HiddenField,
    IssueAction,
    IssueAttachment,
    IssueCategory,
    Project,
    WebsiteInfo,
):
    auditlog.register(model)
auditlog.register(LifecycleRule)
