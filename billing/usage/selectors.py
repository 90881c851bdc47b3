"""Reads of usage records: the caller's records."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from billing.models import UsageRecord
from customers.selectors import scoped_customers


def scoped_usage(user: Any) -> QuerySet[UsageRecord]:
    return UsageRecord.objects.filter(customer__in=scoped_customers(user))
