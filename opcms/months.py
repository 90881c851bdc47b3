"""The one month helper: billing periods are months, stored as their first day (pure: no Django).

Bills, usage summaries, statements, reports and forms all reason in months:
`2025-10` means 2025-10-01 … 2025-10-31. Every module asks these functions
instead of doing calendar arithmetic of its own.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

MONTH_TEXT = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$", re.ASCII)
MONTH_FORMAT = "%Y-%m"


def month_start(day: date) -> date:
    """2025-10-17 → 2025-10-01."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """2025-02-10 → 2025-02-28: the last day of the month `day` is in."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of the month `day` is in."""
    return month_start(day), month_end(day)


def month_shift(day: date, months: int) -> date:
    """The first day of the month `months` after (negative: before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def day_before(day: date) -> date:
    return day - timedelta(days=1)


def month_parse(text: str) -> date:
    """`2025-10` (or a full date `2025-10-17`) → 2025-10-01; ValueError for anything else."""
    match = MONTH_TEXT.match(str(text))
    try:
        if not match:
            raise ValueError
        year, month, day = match.groups()
        first = date(int(year), int(month), 1)  # month 13 raises
        if day is not None:
            first.replace(day=int(day))  # a full date must be a real day
    except ValueError:
        raise ValueError(f"“{text}”不是月份，格式应为 YYYY-MM，如 2025-10") from None
    return first


def month_format(day: date) -> str:
    """2025-10-01 → "2025-10"."""
    return day.strftime(MONTH_FORMAT)
