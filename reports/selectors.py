"""Reads for reports: every figure on a report page comes from here, scoped to the user."""

from __future__ import annotations

from typing import Any

from accounts.selectors import jobs_visible_to
from customers.selectors import scoped_customers


def home_summary(user: Any) -> dict[str, Any]:
    customers = scoped_customers(user)
    return {
        "customer_count": customers.count(),
        "recent_jobs": list(jobs_visible_to(user)[:5]),
    }
