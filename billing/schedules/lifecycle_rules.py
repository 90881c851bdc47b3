"""The nightly lifecycle rules. Evaluated from billing because "no usage for N days" reads
usage, which lives here (billing may import customers, never the reverse); the
rules themselves and the status change are the archive's (customers)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import DateField, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate

from billing.models import UsageRecord
from customers.models import Customer, LifecycleChange, LifecycleRule, Renewal
from customers.services import customer_change_status_by_rule


def _customers_matching(rule: LifecycleRule, *, today: date) -> QuerySet[Customer]:
    """Customers in the rule's from-status whose condition holds on `today`."""
    qs = Customer.objects.filter(is_deleted=False, lifecycle_status=rule.from_status)
    cutoff = today - timedelta(days=rule.days)
    created_on = TruncDate("created_at")
    if rule.condition == LifecycleRule.Condition.NO_USAGE_DAYS:
        # A customer that never shot counts from the day it entered the archive.
        last_usage = UsageRecord.objects.filter(customer=OuterRef("pk")).values("customer")
        last_usage = last_usage.annotate(last=Max("shot_date")).values("last")
        qs = qs.annotate(
            since=Coalesce(Subquery(last_usage, output_field=DateField()), created_on)
        ).filter(since__lt=cutoff)
    elif rule.condition == LifecycleRule.Condition.IN_STATUS_DAYS:
        entered = (
            LifecycleChange.objects.filter(customer=OuterRef("pk"), to_status=rule.from_status)
            .order_by("-changed_at")
            .annotate(day=TruncDate("changed_at"))
            .values("day")[:1]
        )
        qs = qs.annotate(
            since=Coalesce(Subquery(entered, output_field=DateField()), created_on)
        ).filter(since__lte=cutoff)
    elif rule.condition == LifecycleRule.Condition.CONTRACT_ENDED:
        # The latest renewal decides: expired more than N days ago (grace) and not renewed.
        latest = Renewal.objects.filter(customer=OuterRef("pk")).order_by("-expires_on")
        qs = (
            qs.annotate(
                contract_end=Subquery(latest.values("expires_on")[:1]),
                contract_status=Subquery(latest.values("status")[:1]),
            )
            .filter(contract_end__lt=cutoff)
            .exclude(contract_status=Renewal.Status.RENEWED)
        )
    else:
        return qs.none()
    if rule.manual_hold_days:
        # A status somebody set by hand stands for the hold period.
        held_after = today - timedelta(days=rule.manual_hold_days)
        by_hand = LifecycleChange.objects.filter(
            changed_by__isnull=False, changed_at__date__gt=held_after
        ).exclude(from_status="")
        qs = qs.exclude(pk__in=by_hand.values("customer_id"))
    return qs


def lifecycle_rules_apply(*, today: date, dry_run: bool = False) -> dict[str, int]:
    """Apply every enabled rule in order; each customer moves at most once a night."""
    moved: set[int] = set()
    changes = 0
    for rule in LifecycleRule.objects.filter(enabled=True).order_by("sort_order", "pk"):
        for customer in _customers_matching(rule, today=today).exclude(pk__in=moved):
            if dry_run:
                changes += 1
                moved.add(customer.pk)
                continue
            change = customer_change_status_by_rule(
                customer=customer, to_status=rule.to_status, rule_name=rule.name
            )
            if change is not None:
                changes += 1
                moved.add(customer.pk)
    return {"status_changes": changes}
