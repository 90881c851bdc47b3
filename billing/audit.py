"""Billing models recorded by django-auditlog, and the one audit entry of a bulk write."""

from __future__ import annotations

import contextlib
from typing import Any

from auditlog.context import auditlog_value, set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType

from .models import (
    Bill,
    BillLine,
    CollectionContact,
    NoUsageConfirmation,
    Payment,
    PaymentAllocation,
    PaymentPromise,
    Period,
    PeriodGateOverride,
    PricePlan,
    ReceiptExplanation,
    RenewalStage,
    UsageRecord,
)

for model in (
    PricePlan,
    UsageRecord,
    Bill,
    BillLine,
    Payment,
    PaymentAllocation,
    CollectionContact,
    PaymentPromise,
    RenewalStage,
    Period,
    PeriodGateOverride,
    NoUsageConfirmation,
    ReceiptExplanation,
):
    auditlog.register(model)


# django-auditlog does not see bulk_create or raw SQL: bulk writes record one entry.
def audit_bulk(*, user: Any, model: type, summary: str, changes: dict[str, Any]) -> None:
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk="",
        object_repr=summary[:200],
        action=LogEntry.Action.CREATE,
        # auditlog's shape: field → [before, after]; a bulk write has no "before".
        # (Chinese labels, not model field names: auditlog would try to parse them as fields.)
        changes={label: ["", str(value)] for label, value in changes.items()},
        actor=user if getattr(user, "is_authenticated", False) else None,
    )


@contextlib.contextmanager
def audited_as(user: Any):
    """Attribute audit entries to `user` (services called outside a request, e.g. by the
    scheduler or tests), then restore the request middleware's actor context."""
    previous = auditlog_value.get(None)
    try:
        with set_actor(user if getattr(user, "is_authenticated", False) else None):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)
