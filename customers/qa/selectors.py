"""Reads of Q&A across customers: scoped search and statistics by category and month."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from customers.models import QualityIssue
from customers.selectors import scoped_customers

SEARCHED_FIELDS = (
    "description",
    "impact",
    "root_cause",
    "immediate_fix",
    "corrective_action",
    "preventive_action",
    "lessons_learned",
    "category",
)


def scoped_issues(user: Any) -> QuerySet[QualityIssue]:
    """Q&A entries of the customers `user` may see: the one door for Q&A reads."""
    return QualityIssue.objects.filter(customer__in=scoped_customers(user))


def issue_in_scope(user: Any, *, customer_pk: int, issue_pk: int) -> QualityIssue:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        scoped_issues(user).select_related("customer", "owner"),
        customer_id=customer_pk,
        pk=issue_pk,
    )


def issues_search(
    user: Any,
    *,
    text: str = "",
    categories: list[str] | None = None,
    statuses: list[str] | None = None,
    date_from=None,
    date_to=None,
) -> QuerySet[QualityIssue]:
    """Search every Q&A entry in scope by words (any text field) and facets."""
    queryset = scoped_issues(user).select_related("customer", "owner")
    for word in text.split():
        condition = Q()
        for name in SEARCHED_FIELDS:
            condition |= Q(**{f"{name}__icontains": word})
        queryset = queryset.filter(condition)
    if categories:
        queryset = queryset.filter(category__in=categories)
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if date_from:
        queryset = queryset.filter(occurred_on__gte=date_from)
    if date_to:
        queryset = queryset.filter(occurred_on__lte=date_to)
    return queryset.order_by("-occurred_on", "-pk")


def issue_stats(queryset: QuerySet[QualityIssue]) -> dict[str, Any]:
    """Counts by category, by month, and by month x category, with the share resolved."""
    resolved = [QualityIssue.Status.DONE, QualityIssue.Status.CLOSED]
    by_category = list(
        queryset.values("category")
        .annotate(total=Count("pk"), resolved=Count("pk", filter=Q(status__in=resolved)))
        .order_by("-total", "category")
    )
    for row in by_category:
        row["resolved_pct"] = round(100 * row["resolved"] / row["total"]) if row["total"] else 0
    by_month_category = list(
        queryset.annotate(month=TruncMonth("occurred_on"))
        .values("month", "category")
        .annotate(total=Count("pk"))
        .order_by("month", "category")
    )
    months = sorted({r["month"] for r in by_month_category})
    categories = [r["category"] for r in by_category]
    grid = {(r["month"], r["category"]): r["total"] for r in by_month_category}
    table = [
        {
            "month": month,
            "counts": [grid.get((month, c), 0) for c in categories],
            "total": sum(grid.get((month, c), 0) for c in categories),
        }
        for month in months
    ]
    return {"by_category": by_category, "categories": categories, "by_month": table}
