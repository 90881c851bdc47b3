"""The scorecard's pure functions (reports.scorecard): worked by hand, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reports import scorecard as sc

D = Decimal
M = dt.date


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (1, 3, D("0.3333")),
        (2, 3, D("0.6667")),
        (D("1000.00"), D("1400.00"), D("0.7143")),
        (0, 5, D("0.0000")),
        (3, 0, None),
    ],
)
def test_ratio_rounds_half_up_to_four_places(numerator, denominator, expected):
    assert sc.ratio(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([D("0.6667"), D("0.5"), None], D("0.5834")),  # 0.58335 rounds up
        ([None, None], None),
        ([D("0.25"), D("0")], D("0.1250")),
    ],
)
def test_mean_leaves_unmeasured_months_out(values, expected):
    assert sc.mean(values) == expected


@pytest.mark.parametrize(
    ("value", "baseline", "expected"),
    [
        (D("0.35"), D("0.5"), D("-0.3000")),
        (D("0.88"), D("0.8"), D("0.1000")),
        (D("0.5"), None, None),
        (None, D("0.5"), None),
        (D("0.5"), D("0"), None),
    ],
)
def test_relative_change_against_baseline(value, baseline, expected):
    assert sc.relative_change(value, baseline) == expected


def test_money_figures_of_one_bill_month():
    # Given three bills of 2025-10 worked by hand: 1000 paid on time, 500 paid 20 days
    # late, 500 never paid; none reversed or adjusted.
    month = sc.BillMonth(
        period=M(2025, 10, 1),
        assessed_count=3,
        late_count=2,
        assessed_30_amount=D("2000.00"),
        collected_30_amount=D("1500.00"),
        assessed_90_amount=D("2000.00"),
        unpaid_90_amount=D("500.00"),
        issued_count=3,
        corrected_count=0,
    )

    # Then
    assert sc.overdue_rate(month) == D("0.6667")
    assert sc.collection_rate(month) == D("0.7500")
    assert sc.bad_debt_share(month) == D("0.2500")
    assert sc.bill_accuracy(month) == D("1.0000")


def test_a_month_without_bills_measures_nothing():
    month = sc.BillMonth(period=M(2025, 12, 1))

    assert sc.overdue_rate(month) is None
    assert sc.collection_rate(month) is None
    assert sc.bad_debt_share(month) is None
    assert sc.bill_accuracy(month) is None


def test_accuracy_counts_reversed_and_manual_bills_as_corrected():
    month = sc.BillMonth(period=M(2025, 11, 1), issued_count=3, corrected_count=2)

    assert sc.bill_accuracy(month) == D("0.3333")


# --- churn warning rule and back-test ---------------------------------------------------


@pytest.mark.parametrize(
    ("last", "base", "quiet", "year", "expected"),
    [
        (4, 30, False, 34, "fell"),  # 6 × 4 = 24 < 30, base at the 30 minimum
        (5, 30, False, 35, None),  # exactly half: 30 is not above 30
        (0, 29, True, 29, None),  # below the minimum volume either way
        (0, 0, True, 40, "quiet"),  # silent after 40 shots in the year
        (1, 60, True, 61, "fell"),  # both: the fall is named first
    ],
)
def test_churn_signal_is_the_cockpit_rule(last, base, quiet, year, expected):
    assert (
        sc.churn_signal(last_shots=last, base_shots=base, quiet=quiet, year_shots=year) == expected
    )


FELL_THEN_GONE = {M(2025, 11, 1): 20, M(2025, 12, 1): 20, M(2026, 1, 1): 20, M(2026, 2, 1): 2}
FELL_THEN_BACK = {
    M(2025, 11, 1): 10,
    M(2025, 12, 1): 10,
    M(2026, 1, 1): 10,
    M(2026, 2, 1): 1,
    M(2026, 4, 1): 5,
}
HALF_ONLY = {M(2025, 11, 1): 10, M(2025, 12, 1): 10, M(2026, 1, 1): 10, M(2026, 2, 1): 5}
QUIET_SINCE_OCTOBER = {M(2025, 10, 1): 40}


@pytest.mark.parametrize(
    ("history", "signal", "churned"),
    [
        (FELL_THEN_GONE, "fell", True),
        (FELL_THEN_BACK, "fell", False),
        (HALF_ONLY, None, True),
        (QUIET_SINCE_OCTOBER, "quiet", True),
    ],
)
def test_warning_and_outcome_as_of_march(history, signal, churned):
    # Warned on 2026-03-01: February against November–January; outcome March–May.
    as_of = M(2026, 3, 1)

    assert sc.churn_signal_as_of(history, as_of) == signal
    assert sc.churned_after(history, as_of) is churned


def test_back_test_precision_is_churned_among_warned():
    # Given four worked histories, warned as of 2026-03 with May the last full month
    histories = {1: FELL_THEN_GONE, 2: FELL_THEN_BACK, 3: HALF_ONLY, 4: QUIET_SINCE_OCTOBER}

    # When
    test = sc.churn_backtest(histories, as_of=M(2026, 3, 1), last_full_month=M(2026, 5, 1))

    # Then customers 1, 2 and 4 were warned, 1 and 4 went silent for three months
    assert [(w.customer_id, w.signal, w.churned) for w in test.warnings] == [
        (1, "fell", True),
        (2, "fell", False),
        (4, "quiet", True),
    ]
    assert test.precision == D("0.6667")


def test_back_test_precision_waits_for_the_outcome_months():
    histories = {1: FELL_THEN_GONE}

    test = sc.churn_backtest(histories, as_of=M(2026, 3, 1), last_full_month=M(2026, 4, 1))

    assert len(test.warnings) == 1
    assert test.known is False
    assert test.precision is None


# --- adoption ----------------------------------------------------------------------------

TODAY = M(2026, 6, 15)
MAY = M(2026, 5, 1)  # a Friday; 21 working days; weeks starting 4, 11, 18 and 25 May


def test_daily_active_rate_averages_working_days_over_joined_users():
    # Given ops 1 active on Mon 4 and Tue 5 May, ops 2 joined on Fri 29 May and active that day
    active = {1: {M(2026, 5, 4), M(2026, 5, 5), M(2026, 5, 9)}, 2: {M(2026, 5, 29)}}
    joined = {1: M(2026, 1, 1), 2: M(2026, 5, 29)}

    # When
    adoption = sc.daily_active_rate(active, joined, month=MAY, today=TODAY)

    # Then 20 days with one user (2 active) and the 29th with two (one active):
    # (1 + 1 + 0.5) / 21; Saturday the 9th is not a working day
    assert adoption.periods == 21
    assert adoption.rate == D("0.1190")


def test_daily_active_rate_stops_before_today():
    active = {1: {M(2026, 6, 1)}}
    joined = {1: M(2026, 1, 1)}

    adoption = sc.daily_active_rate(active, joined, month=M(2026, 6, 1), today=M(2026, 6, 3))

    # Mon 1 and Tue 2 June are over; the 3rd is today
    assert adoption.periods == 2
    assert adoption.rate == D("0.5000")


def test_weekly_active_rate_counts_a_user_once_per_week():
    # Given sales 1 active on Wed 6 and Tue 26 May (twice that week), sales 2 never
    active = {1: {M(2026, 5, 6), M(2026, 5, 26), M(2026, 5, 27)}, 2: set()}
    joined = {1: M(2026, 1, 1), 2: M(2026, 1, 1)}

    adoption = sc.weekly_active_rate(active, joined, month=MAY, today=TODAY)

    # weeks of 4, 11, 18, 25 May: 1/2, 0, 0, 1/2
    assert adoption.periods == 4
    assert adoption.rate == D("0.2500")


def test_no_users_no_rate():
    adoption = sc.weekly_active_rate({}, {}, month=MAY, today=TODAY)

    assert adoption.rate is None


# --- targets and window ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "baseline", "expected"),
    [
        ("overdue_rate", D("0.35"), D("0.5"), True),  # −30%
        ("overdue_rate", D("0.36"), D("0.5"), False),
        ("collection_rate", D("0.88"), D("0.8"), True),  # +10%
        ("collection_rate", D("0.87"), D("0.8"), False),
        ("collection_rate", D("0.9"), None, None),  # no baseline, cannot tell
        ("bad_debt_share", D("0.0099"), None, True),
        ("bad_debt_share", D("0.01"), None, False),
        ("bill_accuracy", D("0.95"), None, True),
        ("churn_precision", D("0.7999"), None, False),
        ("ops_daily_active", None, D("0.9"), None),
    ],
)
def test_meets_target(key, value, baseline, expected):
    assert sc.meets_target(sc.FIGURE_BY_KEY[key], value, baseline) is expected


def test_months_are_three_before_go_live_then_up_to_the_last_full_month():
    months = sc.scorecard_months(go_live=M(2026, 1, 1), last_full_month=M(2026, 3, 1))

    assert months == [M(2025, 10, 1), M(2025, 11, 1), M(2025, 12, 1)] + [
        M(2026, 1, 1),
        M(2026, 2, 1),
        M(2026, 3, 1),
    ]


def test_months_keep_the_latest_twelve_after_go_live():
    months = sc.scorecard_months(go_live=M(2024, 1, 1), last_full_month=M(2026, 3, 1))

    assert months[:3] == [M(2023, 10, 1), M(2023, 11, 1), M(2023, 12, 1)]
    assert months[3] == M(2025, 4, 1) and months[-1] == M(2026, 3, 1)
    assert len(months) == 15


def test_figure_row_latest_is_the_last_measured_month_after_go_live():
    values = {M(2025, 12, 1): D("0.5"), M(2026, 1, 1): D("0.4"), M(2026, 2, 1): None}
    months = [M(2025, 12, 1), M(2026, 1, 1), M(2026, 2, 1)]

    row = sc.figure_row(
        sc.FIGURE_BY_KEY["overdue_rate"], values, baseline_months=months[:1], months=months
    )

    assert row.baseline == D("0.5000")
    assert row.latest_month == M(2026, 1, 1)
    assert row.change == D("-0.2000")
    assert row.met is False
    assert row.target_value == D("0.3500")  # 30% below the 50% baseline


@pytest.mark.parametrize(
    ("key", "baseline", "expected"),
    [
        ("overdue_rate", D("0.5834"), D("0.4084")),
        ("collection_rate", D("0.7322"), D("0.8054")),
        ("collection_rate", None, None),
        ("bad_debt_share", None, D("0.01")),
    ],
)
def test_target_value_is_the_goal_as_a_level(key, baseline, expected):
    assert sc.target_value(sc.FIGURE_BY_KEY[key], baseline) == expected
