"""The one month helper: bounds, shifts and "YYYY-MM" parsing (pure, no database)."""

from __future__ import annotations

from datetime import date

import pytest

from opcms.months import (
    day_before,
    month_bounds,
    month_end,
    month_format,
    month_parse,
    month_shift,
    month_start,
)


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2025, 10, 17), date(2025, 10, 1), date(2025, 10, 31)),
        (date(2025, 2, 1), date(2025, 2, 1), date(2025, 2, 28)),
        (date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29)),
        (date(2025, 12, 31), date(2025, 12, 1), date(2025, 12, 31)),
        (date(2025, 4, 30), date(2025, 4, 1), date(2025, 4, 30)),
    ],
)
def test_month_bounds(day, start, end):
    assert (month_start(day), month_end(day)) == (start, end)
    assert month_bounds(day) == (start, end)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 10, 17), 0, date(2025, 10, 1)),
        (date(2025, 10, 1), 1, date(2025, 11, 1)),
        (date(2025, 12, 1), 1, date(2026, 1, 1)),
        (date(2025, 1, 31), -1, date(2024, 12, 1)),
        (date(2025, 3, 31), -13, date(2024, 2, 1)),
        (date(2025, 1, 1), 24, date(2027, 1, 1)),
    ],
)
def test_month_shift(day, months, expected):
    assert month_shift(day, months) == expected


def test_day_before_crosses_month_and_year():
    assert day_before(date(2026, 1, 1)) == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10", date(2025, 10, 1)),
        ("2025-1", date(2025, 1, 1)),
        (" 2025-12 ", date(2025, 12, 1)),
        ("2025-10-17", date(2025, 10, 1)),
        ("2024-02-29", date(2024, 2, 1)),
    ],
)
def test_month_parse_accepts_month_or_date(text, expected):
    assert month_parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "2025", "2025-13", "2025-00", "25-10", "2025/10", "2025-02-30", "abc", "２０２５-10"],
)
def test_month_parse_refuses_with_chinese_message(text):
    with pytest.raises(ValueError, match="不是月份，格式应为 YYYY-MM"):
        month_parse(text)


def test_month_format():
    assert month_format(date(2025, 3, 9)) == "2025-03"
