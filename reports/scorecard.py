"""The brief's KPI scorecard, computed: pure functions over plain data (no ORM, clock or I/O).

reports.selectors.scorecard gathers the numbers (scoped to the user) and hands them
here; every rate is a Decimal fraction (0.25 = 25%) or None when nothing could be
measured. The churn-warning rule lives here too, so the cockpit's live warnings and
the back-test apply the same thresholds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from opcms.months import month_end, month_shift

# Rates keep 4 places (a tenth of a percent shown) and round half-up, as money does.
RATE_PLACES = Decimal("0.0001")

# --- the churn-warning rule (shared with reports.selectors.churn_warnings) -----------

CHURN_NO_USAGE_DAYS = 60
# A warning needs a customer worth warning about: at least 10 shots a month on average
# over the three months compared (a fall), or 30 shots in the year (three such months)
# for one gone quiet. Below it a fall like 0.3 → 0 is noise, not churn.
CHURN_MIN_MONTHLY_AVG = 10
# A warned customer "really churned" when it shot nothing in the three full months from
# the warning on: at least 30 days of silence after a warning given on the 1st.
CHURN_OUTCOME_MONTHS = 3

# The back-test gives its warnings on the 1st of a month, so "no usage in the last 60
# days" reads as "none in the two months before".
_QUIET_MONTHS = 2


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """numerator / denominator rounded to 4 places, None when there is nothing to divide."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def mean(values: Iterable[Decimal | None]) -> Decimal | None:
    """The average of the measured values (None ones are left out); None if none."""
    measured = [v for v in values if v is not None]
    if not measured:
        return None
    return (sum(measured, Decimal(0)) / len(measured)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def relative_change(value: Decimal | None, baseline: Decimal | None) -> Decimal | None:
    """(value − baseline) / baseline: −0.30 is "30% lower than before go-live"."""
    if value is None or not baseline:
        return None
    return ((value - baseline) / baseline).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


# --- money figures per bill month ------------------------------------------------------


@dataclass(frozen=True)
class BillMonth:
    """What the database says about one bill month (账期月份) of live, issued bills."""

    period: date
    assessed_count: int = 0  # due date passed
    late_count: int = 0  # of those, not fully paid by the due date
    assessed_30_amount: Decimal = Decimal("0.00")  # billed, due date + 30 days passed
    collected_30_amount: Decimal = Decimal("0.00")  # paid of those by due date + 30 days
    assessed_90_amount: Decimal = Decimal("0.00")  # billed, due date + 90 days passed
    unpaid_90_amount: Decimal = Decimal("0.00")  # still owed of those at due date + 90 days
    issued_count: int = 0  # bills that left draft, reversed ones included
    corrected_count: int = 0  # of those, reversed or carrying a manual line


def overdue_rate(month: BillMonth) -> Decimal | None:
    """客户逾期率: share of the month's bills not fully paid by their due date."""
    return ratio(month.late_count, month.assessed_count)


def collection_rate(month: BillMonth) -> Decimal | None:
    """回款率: share of the billed amount collected within 30 days after the due date."""
    return ratio(month.collected_30_amount, month.assessed_30_amount)


def bad_debt_share(month: BillMonth) -> Decimal | None:
    """坏账率 (proxy, there is no write-off in the product): share of the billed amount
    still unpaid 90 days after the due date."""
    return ratio(month.unpaid_90_amount, month.assessed_90_amount)


def bill_accuracy(month: BillMonth) -> Decimal | None:
    """账单生成准确率: share of issued bills needing no manual line and no reversal."""
    if not month.issued_count:
        return None
    return ratio(month.issued_count - month.corrected_count, month.issued_count)


# --- the churn-warning back-test -----------------------------------------------------


def churn_signal(*, last_shots: int, base_shots: int, quiet: bool, year_shots: int) -> str | None:
    """The cockpit's rule: "fell" when the last full month is below half the average of
    the three before it (6 × last < their sum) from at least 10 a month; "quiet" when
    there was no usage lately after at least 30 shots in the year; else None."""
    min_shots = CHURN_MIN_MONTHLY_AVG * 3
    if base_shots > last_shots * 6 and base_shots >= min_shots:
        return "fell"
    if quiet and year_shots >= min_shots:
        return "quiet"
    return None


def _month_keys(as_of: date) -> dict[int, date]:
    """The months around a warning day by offset: −12 … −1 before it, 0 … 2 from it."""
    return {k: month_shift(as_of, k) for k in range(-12, CHURN_OUTCOME_MONTHS)}


def _signal(shots: Mapping[date, int], keys: Mapping[int, date]) -> str | None:
    def month(offset: int) -> int:
        return shots.get(keys[offset], 0)

    return churn_signal(
        last_shots=month(-1),
        base_shots=month(-2) + month(-3) + month(-4),
        quiet=all(month(-k) == 0 for k in range(1, _QUIET_MONTHS + 1)),
        year_shots=sum(month(-k) for k in range(1, 13)),
    )


def _churned(shots: Mapping[date, int], keys: Mapping[int, date]) -> bool:
    return all(shots.get(keys[k], 0) == 0 for k in range(CHURN_OUTCOME_MONTHS))


def churn_signal_as_of(shots: Mapping[date, int], as_of: date) -> str | None:
    """The warning a customer with these monthly shots would have had on `as_of` (a 1st)."""
    return _signal(shots, _month_keys(as_of))


def churned_after(shots: Mapping[date, int], as_of: date) -> bool:
    """No usage at all in the CHURN_OUTCOME_MONTHS full months from `as_of` on."""
    return _churned(shots, _month_keys(as_of))


def churn_outcome_known(as_of: date, *, last_full_month: date) -> bool:
    """The outcome of a warning given on `as_of` is known once its months have all ended."""
    return month_shift(as_of, CHURN_OUTCOME_MONTHS - 1) <= last_full_month


@dataclass(frozen=True)
class ChurnWarning:
    customer_id: int
    signal: str  # "fell" or "quiet"
    churned: bool


@dataclass(frozen=True)
class ChurnBacktest:
    as_of: date
    warnings: tuple[ChurnWarning, ...]
    known: bool  # are the outcomes in (all outcome months ended)?

    @property
    def churned_count(self) -> int:
        return sum(1 for w in self.warnings if w.churned)

    @property
    def precision(self) -> Decimal | None:
        """Of the customers warned, the share that really went silent (None until known)."""
        if not self.known:
            return None
        return ratio(self.churned_count, len(self.warnings))


def churn_backtest(
    histories: Mapping[int, Mapping[date, int]], *, as_of: date, last_full_month: date
) -> ChurnBacktest:
    """Apply the warning rule to every customer's monthly shots as of `as_of` (a 1st)."""
    keys = _month_keys(as_of)  # once per month, not per customer: 100,000 customers
    warnings = []
    for customer_id in sorted(histories):
        shots = histories[customer_id]
        signal = _signal(shots, keys)
        if signal:
            warnings.append(ChurnWarning(customer_id, signal, _churned(shots, keys)))
    known = churn_outcome_known(as_of, last_full_month=last_full_month)
    return ChurnBacktest(as_of=as_of, warnings=tuple(warnings), known=known)


# --- adoption ------------------------------------------------------------------------


@dataclass(frozen=True)
class Adoption:
    rate: Decimal | None
    periods: int  # working days (daily) or weeks (weekly) measured


def _working_days(month: date, *, before: date) -> list[date]:
    """Monday–Friday of the month, up to the day before `before` (today is not over)."""
    day, last = month, min(month_end(month), before - timedelta(days=1))
    days = []
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _weeks(month: date, *, before: date) -> list[tuple[date, date]]:
    """The Monday–Sunday weeks that start in the month and have ended before `before`."""
    weeks = []
    day = month + timedelta(days=(7 - month.weekday()) % 7)  # the first Monday
    while day <= month_end(month):
        sunday = day + timedelta(days=6)
        if sunday < before:
            weeks.append((day, sunday))
        day += timedelta(days=7)
    return weeks


def daily_active_rate(
    active_days: Mapping[int, set[date]], joined: Mapping[int, date], *, month: date, today: date
) -> Adoption:
    """运营人员日活跃率: averaged over the month's working days, the share of the users (who
    had joined by that day) active on that day (logged in or left an audit entry)."""
    shares = []
    for day in _working_days(month, before=today):
        users = [u for u, since in joined.items() if since <= day]
        if users:
            shares.append(ratio(sum(1 for u in users if day in active_days.get(u, ())), len(users)))
    return Adoption(mean(shares), len(shares))


def weekly_active_rate(
    active_days: Mapping[int, set[date]], joined: Mapping[int, date], *, month: date, today: date
) -> Adoption:
    """销售人员周活跃率: averaged over the weeks starting in the month, the share of the users
    (joined by the week's end) active on at least one day of the week."""
    shares = []
    for monday, sunday in _weeks(month, before=today):
        users = [u for u, since in joined.items() if since <= sunday]
        if users:
            active = sum(
                1 for u in users if any(monday <= d <= sunday for d in active_days.get(u, ()))
            )
            shares.append(ratio(active, len(users)))
    return Adoption(mean(shares), len(shares))


# --- the figures, their definitions and targets ----------------------------------------


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    definition: str
    target_text: str
    lower_is_better: bool = False
    # the goal: a relative change against the baseline, or an absolute level
    target_change: Decimal | None = None
    target_level: Decimal | None = None
    # Bill figures: the bill list's query strings (billing.bills.filters) for the bills
    # counted and for the denominator's bills; the same definitions as the figure.
    bill_query: tuple[str, str] | None = None


FIGURES = (
    Figure(
        "overdue_rate",
        "客户逾期率",
        "某账期月份已出账（未冲正）的账单中，到期日当天仍未结清的张数 ÷ 到期日已过的账单张数。"
        "已收款按收款日期计，撤销的核销不算。",
        "较上线前 3 个月平均降低 30%",
        lower_is_better=True,
        target_change=Decimal("-0.30"),
        bill_query=("unpaid_days=0", "assessed_days=0"),
    ),
    Figure(
        "collection_rate",
        "客户回款率",
        "某账期月份账单在到期日后 30 天内收回的金额 ÷ 这些账单的金额；只统计到期已满 30 天的账单。",
        "较上线前 3 个月平均提升 10%",
        target_change=Decimal("0.10"),
        bill_query=("assessed_days=30", "assessed_days=30"),
    ),
    Figure(
        "bad_debt_share",
        "坏账率（代理指标）",
        "系统没有核销坏账的操作，以到期 90 天后仍未收回的金额 ÷ 到期已满 90 天的账单金额代替。",
        "低于 1%",
        lower_is_better=True,
        target_level=Decimal("0.01"),
        bill_query=("unpaid_days=90", "assessed_days=90"),
    ),
    Figure(
        "bill_accuracy",
        "账单生成准确率",
        "某账期月份出过账的账单（含后来冲正的）中，既没有手工调整行、也没有被冲正的张数占比。",
        "不低于 95%（目标 100%）",
        target_level=Decimal("0.95"),
        bill_query=("corrected=1", "status=issued_ever"),
    ),
    Figure(
        "churn_precision",
        "流失预警准确率（回测）",
        "按驾驶舱的预警规则（上月用量不足前三个月均值一半，或近 60 天无用量，且有最低用量）"
        "回测每月 1 日会被预警的客户，其中在之后连续 3 个整月没有任何用量的占比。",
        "不低于 80%",
        target_level=Decimal("0.80"),
    ),
    Figure(
        "ops_daily_active",
        "运营人员日活跃率",
        "每个工作日（周一至周五）有登录或操作记录的运营账号 ÷ 当日已开通的运营账号，按月平均。",
        "不低于 90%",
        target_level=Decimal("0.90"),
    ),
    Figure(
        "sales_weekly_active",
        "销售人员周活跃率",
        "每周（周一至周日，按周一所在月份归月）有登录或操作记录的销售账号 ÷ 当周已开通的销售账号，按月平均。",
        "不低于 80%",
        target_level=Decimal("0.80"),
    ),
)
FIGURE_BY_KEY = {f.key: f for f in FIGURES}


def meets_target(figure: Figure, value: Decimal | None, baseline: Decimal | None) -> bool | None:
    """Whether a value reaches the figure's goal; None when it cannot be told."""
    if value is None:
        return None
    if figure.target_level is not None:
        if figure.lower_is_better:
            return value < figure.target_level
        return value >= figure.target_level
    change = relative_change(value, baseline)
    if change is None or figure.target_change is None:
        return None
    if figure.lower_is_better:
        return change <= figure.target_change
    return change >= figure.target_change


def target_value(figure: Figure, baseline: Decimal | None) -> Decimal | None:
    """The goal as a level: the absolute target, or the baseline moved by the target change
    (overdue 58.34% − 30% → 40.84%); None without a baseline."""
    if figure.target_level is not None:
        return figure.target_level
    if baseline is None or figure.target_change is None:
        return None
    return (baseline * (1 + figure.target_change)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FigureRow:
    """One figure over the window: its monthly values, baseline and latest measured value."""

    figure: Figure
    values: tuple[tuple[date, Decimal | None], ...]
    baseline: Decimal | None
    latest_month: date | None
    latest: Decimal | None
    change: Decimal | None
    met: bool | None
    target_value: Decimal | None  # the level the goal asks for (a change applied to the baseline)


def figure_row(
    figure: Figure,
    values: Mapping[date, Decimal | None],
    *,
    baseline_months: list[date],
    months: list[date],
) -> FigureRow:
    """The baseline is the plain average of the monthly values of the three months before
    go-live (months with nothing to measure left out); "latest" is the last measured month
    after go-live."""
    baseline = mean(values.get(m) for m in baseline_months)
    after = [m for m in months if m not in baseline_months and values.get(m) is not None]
    latest_month = after[-1] if after else None
    latest = values.get(latest_month) if latest_month else None
    return FigureRow(
        figure=figure,
        values=tuple((m, values.get(m)) for m in months),
        baseline=baseline,
        latest_month=latest_month,
        latest=latest,
        change=relative_change(latest, baseline),
        met=meets_target(figure, latest, baseline),
        target_value=target_value(figure, baseline),
    )


def scorecard_months(*, go_live: date, last_full_month: date, after_months: int = 12) -> list[date]:
    """The three months before go-live, then go-live's month up to the last full month
    (at most `after_months` of them: the latest)."""
    baseline = [month_shift(go_live, -k) for k in (3, 2, 1)]
    after = []
    month = go_live
    while month <= last_full_month:
        after.append(month)
        month = month_shift(month, 1)
    return [m for m in baseline if m <= last_full_month] + after[-after_months:]
