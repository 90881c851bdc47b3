"""Every report figure against the hand-computed world of conftest.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import money_totals
from reports import selectors
from reports.selectors import ReportFilters

from .conftest import TODAY

D = Decimal
ALL = ReportFilters()


def _money(row: dict, *keys: str) -> dict:
    return {k: row[k] for k in keys}


RECEIVABLE_KEYS = (
    "billed",
    "received",
    "outstanding",
    "overdue",
    "age_0_30",
    "age_31_60",
    "age_61_90",
    "age_90_plus",
)


def test_receivable_totals_count_only_live_issued_bills(world, manager_user):
    totals = selectors.receivable_totals(manager_user, filters=ALL, today=TODAY)

    assert _money(totals, *RECEIVABLE_KEYS) == {
        "billed": D("5300.00"),
        "received": D("900.00"),
        "outstanding": D("4400.00"),
        "overdue": D("3900.00"),
        "age_0_30": D("500.00"),
        "age_31_60": D("600.00"),
        "age_61_90": D("2000.00"),
        "age_90_plus": D("800.00"),
    }
    assert totals["overdue_count"] == 4
    assert totals["bill_count"] == 6


def test_receivable_rows_one_per_customer_and_month(world, manager_user):
    rows = list(selectors.receivable_rows(manager_user, filters=ALL, today=TODAY))

    keys = [(r.customer.company_id, r.period) for r in rows]
    assert keys == [
        (1001, dt.date(2025, 10, 1)),
        (1001, dt.date(2025, 11, 1)),
        (1001, dt.date(2025, 12, 1)),
        (1002, dt.date(2025, 9, 1)),
        (1002, dt.date(2025, 10, 1)),
        (1003, dt.date(2025, 10, 1)),
    ]
    b10 = rows[4]
    assert (b10.billed, b10.received, b10.outstanding, b10.overdue) == (
        D("700.00"),
        D("200.00"),
        D("500.00"),
        D("0.00"),
    )
    assert b10.pk == world.bills["b10"].pk  # the reversed 999.00 and its credit note are absent
    b09 = rows[3]
    assert (b09.overdue, b09.age_90_plus, b09.age_61_90) == (D("800.00"), D("800.00"), D("0"))


@pytest.mark.parametrize(
    ("today", "bucket"),
    [
        (dt.date(2025, 12, 1), "age_0_30"),  # 1 day past due
        (dt.date(2025, 12, 30), "age_0_30"),  # 30 days
        (dt.date(2025, 12, 31), "age_31_60"),  # 31 days: crosses the boundary
        (dt.date(2026, 1, 29), "age_31_60"),  # 60 days
        (dt.date(2026, 1, 30), "age_61_90"),  # 61 days
        (dt.date(2026, 2, 28), "age_61_90"),  # 90 days
        (dt.date(2026, 3, 1), "age_90_plus"),  # 91 days
    ],
)
def test_partly_paid_overdue_bill_moves_across_ageing_buckets(world, manager_user, today, bucket):
    # A 2025-10: 1000.00 due 2025-11-30, 400.00 paid → 600.00 overdue.
    row = next(
        r
        for r in selectors.receivable_rows(manager_user, filters=ALL, today=today)
        if r.pk == world.bills["a10"].pk
    )

    assert row.overdue == D("600.00")
    assert {k: getattr(row, k) for k in RECEIVABLE_KEYS[4:]} == {
        k: (D("600.00") if k == bucket else D("0.00")) for k in RECEIVABLE_KEYS[4:]
    }


def test_bill_due_today_is_not_overdue(world, manager_user):
    row = next(
        r
        for r in selectors.receivable_rows(manager_user, filters=ALL, today=dt.date(2025, 11, 30))
        if r.pk == world.bills["a10"].pk
    )

    assert row.overdue == D("0.00")
    assert row.outstanding == D("600.00")


@pytest.mark.parametrize(
    ("filters", "billed", "overdue"),
    [
        (ReportFilters(level="A"), "3800.00", "3100.00"),
        (ReportFilters(series="X"), "2000.00", "2000.00"),
        (ReportFilters(series="L"), "1700.00", "600.00"),
        (
            ReportFilters(month_from=dt.date(2025, 10, 1), month_to=dt.date(2025, 11, 1)),
            "4200.00",
            "3100.00",
        ),
        (ReportFilters(month_from=dt.date(2025, 12, 1)), "300.00", "0.00"),
    ],
)
def test_receivable_filters(world, manager_user, filters, billed, overdue):
    totals = selectors.receivable_totals(manager_user, filters=filters, today=TODAY)

    assert (totals["billed"], totals["overdue"]) == (D(billed), D(overdue))


def test_receivable_filter_by_sales_owner(world, manager_user, other_sales_user):
    filters = ReportFilters(sales_owner_id=other_sales_user.pk)

    totals = selectors.receivable_totals(manager_user, filters=filters, today=TODAY)

    assert (totals["billed"], totals["age_61_90"]) == (D("2000.00"), D("2000.00"))


def test_receivables_by_month(world, manager_user):
    rows = selectors.receivables_by_month(manager_user, filters=ALL, today=TODAY)

    assert [(r["period"], r["billed"], r["received"], r["overdue"]) for r in rows] == [
        (dt.date(2025, 9, 1), D("800.00"), D("0.00"), D("800.00")),
        (dt.date(2025, 10, 1), D("3700.00"), D("600.00"), D("2600.00")),
        (dt.date(2025, 11, 1), D("500.00"), D("0.00"), D("500.00")),
        (dt.date(2025, 12, 1), D("300.00"), D("300.00"), D("0.00")),
    ]


def test_received_equals_active_allocations(world, manager_user):
    from billing.models import PaymentAllocation

    active = sum(
        a.amount
        for a in PaymentAllocation.objects.filter(
            undone_at__isnull=True, bill__kind="bill"
        ).exclude(bill__status__in=["reversed", "draft"])
    )

    totals = selectors.receivable_totals(manager_user, filters=ALL, today=TODAY)

    assert totals["received"] == active == D("900.00")


# --- scope --------------------------------------------------------------------


def test_sales_totals_are_the_sum_over_their_own_customers(world, sales_user, other_sales_user):
    mine = selectors.receivable_totals(sales_user, filters=ALL, today=TODAY)
    theirs = selectors.receivable_totals(other_sales_user, filters=ALL, today=TODAY)

    assert _money(mine, *RECEIVABLE_KEYS) == {
        "billed": D("3300.00"),
        "received": D("900.00"),
        "outstanding": D("2400.00"),
        "overdue": D("1900.00"),
        "age_0_30": D("500.00"),
        "age_31_60": D("600.00"),
        "age_61_90": D("0.00"),
        "age_90_plus": D("800.00"),
    }
    per_customer = [
        selectors.receivable_totals(
            sales_user, filters=ReportFilters(sales_owner_id=sales_user.pk), today=TODAY
        )
    ]
    assert per_customer[0]["billed"] == mine["billed"]
    assert theirs["billed"] == D("2000.00")
    # Another owner's id as a filter cannot widen a sales user's scope.
    widened = selectors.receivable_totals(
        sales_user, filters=ReportFilters(sales_owner_id=other_sales_user.pk), today=TODAY
    )
    assert widened["billed"] == D("0.00")


def test_out_of_scope_customers_never_appear(world, sales_user):
    rows = selectors.receivable_rows(sales_user, filters=ALL, today=TODAY)
    payments = selectors.payments_by_customer(sales_user, filters=ALL)
    cockpit = selectors.cockpit(sales_user, today=TODAY)
    status = selectors.settlement_status(sales_user, period=dt.date(2025, 10, 1))

    assert {r.customer_id for r in rows} == {world.a.pk, world.b.pk}
    assert {r["customer_id"] for r in payments} == {world.a.pk, world.b.pk}
    assert {r["customer_id"] for r in cockpit["top_customers"]} == {world.a.pk, world.b.pk}
    assert {r["customer_id"] for r in cockpit["churn"]["rows"]} == {world.a.pk}
    assert list(status["missing"]) == []
    assert sum(r["bill_count"] for r in status["by_status"]) == 4  # A, B, B reversed, B credit


def test_user_without_role_sees_nothing(world):
    from tests.factories import UserFactory

    nobody = UserFactory(role="")

    assert selectors.receivable_totals(nobody, filters=ALL, today=TODAY)["billed"] == D("0.00")


# --- payments -----------------------------------------------------------------


def test_payments_by_customer(world, manager_user):
    rows = selectors.with_customer_names(selectors.payments_by_customer(manager_user, filters=ALL))

    assert [
        (
            r["customer__company_id"],
            r["payment_count"],
            r["received"],
            r["allocated_amount"],
            r["unallocated"],
        )
        for r in rows
    ] == [
        (1003, 1, D("1000.00"), D("0.00"), D("1000.00")),
        (1001, 2, D("700.00"), D("700.00"), D("0.00")),
        (1002, 1, D("500.00"), D("200.00"), D("300.00")),
    ]
    totals = selectors.payment_totals(manager_user, filters=ALL)
    assert (totals["payment_count"], totals["received"], totals["allocated_amount"]) == (
        4,
        D("2200.00"),
        D("900.00"),
    )
    assert totals["unallocated"] == D("1300.00")


def test_payments_by_month_and_month_filter(world, manager_user):
    rows = selectors.payments_by_month(manager_user, filters=ALL)
    january = ReportFilters(month_from=dt.date(2026, 1, 1), month_to=dt.date(2026, 1, 1))

    assert [
        (r["month"], r["payment_count"], r["received"], r["allocated_amount"]) for r in rows
    ] == [
        (dt.date(2025, 11, 1), 1, D("1000.00"), D("0.00")),
        (dt.date(2025, 12, 1), 1, D("400.00"), D("400.00")),
        (dt.date(2026, 1, 1), 2, D("800.00"), D("500.00")),
    ]
    assert selectors.payment_totals(manager_user, filters=january)["received"] == D("800.00")


# --- settlement status ----------------------------------------------------------


def test_settlement_status_by_status_and_missing_bills(world, manager_user):
    october = selectors.settlement_status(manager_user, period=dt.date(2025, 10, 1))
    december = selectors.settlement_status(manager_user, period=dt.date(2025, 12, 1))

    assert [
        (r["kind"], r["status"], r["bill_count"], r["amount"], r["paid"])
        for r in october["by_status"]
    ] == [
        ("bill", "issued", 1, D("2000.00"), D("0.00")),
        ("bill", "partially_paid", 2, D("1700.00"), D("600.00")),
        ("bill", "reversed", 1, D("999.00"), D("0.00")),
        ("credit_note", "issued", 1, D("-999.00"), D("0.00")),
    ]
    assert october["by_status"][-1]["label"] == "冲正单"
    # D has no bill; E is disabled; B's reversed bill was replaced by a live one.
    assert [c.company_id for c in october["missing"]] == [1004]
    # The draft counts as generated for C; B has nothing for December.
    assert [c.company_id for c in december["missing"]] == [1002, 1004]


# --- cockpit ------------------------------------------------------------------


def test_cockpit_figures(world, manager_user):
    figures = selectors.cockpit(manager_user, today=TODAY)

    assert figures["month"] == dt.date(2025, 12, 1)
    assert (figures["billed"], figures["received"]) == (D("300.00"), D("300.00"))
    assert figures["cash_received"] == D("800.00")
    assert (figures["overdue"], figures["overdue_count"]) == (D("3900.00"), 4)
    trend = {r["period"]: (r["billed"], r["received"]) for r in figures["revenue_trend"]}
    assert len(trend) == 12 and min(trend) == dt.date(2025, 1, 1)
    assert trend[dt.date(2025, 9, 1)] == (D("800.00"), D("0.00"))
    assert trend[dt.date(2025, 10, 1)] == (D("3700.00"), D("600.00"))
    assert trend[dt.date(2025, 11, 1)] == (D("500.00"), D("0.00"))
    assert trend[dt.date(2025, 12, 1)] == (D("300.00"), D("300.00"))
    assert trend[dt.date(2025, 1, 1)] == (0, 0)
    shots = {r["period"]: (r["shot_count"], r["floor_count"]) for r in figures["shots_trend"]}
    assert shots[dt.date(2025, 8, 1)] == (2, 2)
    assert shots[dt.date(2025, 9, 1)] == (26, 26)
    assert shots[dt.date(2025, 11, 1)] == (23, 23)
    assert shots[dt.date(2025, 12, 1)] == (9, 17)
    assert figures["by_grade"] == [
        {"value": "A", "customer_count": 2},
        {"value": "B", "customer_count": 1},
        {"value": "未评级", "customer_count": 2},
    ]
    assert figures["by_consumption"][:2] == [
        {"value": "C3", "customer_count": 2},
        {"value": "C5", "customer_count": 1},
    ]
    assert [(r["customer__company_id"], r["revenue"]) for r in figures["top_customers"]] == [
        (1003, D("2000.00")),
        (1001, D("1800.00")),
        (1002, D("1500.00")),
    ]


def test_churn_warnings(world, manager_user):
    churn = selectors.churn_warnings(manager_user, today=TODAY)

    assert churn["count"] == 1
    assert [
        (r["customer__company_id"], r["last_shots"], r["base_avg"], r["fell"], r["quiet"])
        for r in churn["rows"]
    ] == [
        (1001, 4, D("10.0"), True, False),  # 4 < 10 / 2, from the minimum average of 10
    ]
    # B fell to exactly half (5 against 10): not "more than half"; E is disabled.
    # C (1.0 a month → 0) and D (silent, a handful of shots in the year) are under the
    # minimum volume (10 a month / 30 in the year): no warning.


def test_no_churn_warning_under_the_minimum_volume(db, manager_user):
    from tests.factories import CustomerFactory, DeviceSeriesFactory, UsageRecordFactory

    # Given three months compared averaging 9.7 (29 shots) against 10 (30 shots), both to 0,
    # and two customers silent for 90 days after 29 and 30 shots in the year
    series = DeviceSeriesFactory(code="L")
    base = [dt.date(2025, 9, 10), dt.date(2025, 10, 10), dt.date(2025, 11, 10)]
    rows = {}
    for name, per_month in (("低量", (10, 10, 9)), ("达标", (10, 10, 10))):
        c = rows[name] = CustomerFactory(name=name)
        for day, shots in zip(base, per_month, strict=True):
            UsageRecordFactory(customer=c, series=series, shot_date=day, shots=shots)
        UsageRecordFactory(customer=c, series=series, shot_date=dt.date(2025, 12, 1), shots=1)
    for name, shots in (("静默低量", 29), ("静默达标", 30)):
        c = rows[name] = CustomerFactory(name=name)
        UsageRecordFactory(customer=c, series=series, shot_date=dt.date(2025, 6, 1), shots=shots)

    churn = selectors.churn_warnings(manager_user, today=dt.date(2026, 1, 15))

    warned = {r["customer__name"] for r in churn["rows"]}
    assert warned == {"达标", "静默达标"}


def test_churn_leaves_out_deleted_disabled_and_churned_customers(db, manager_user, sales_user):
    from customers.models import Customer, LifecycleStatus
    from tests.factories import CustomerFactory, DeviceSeriesFactory, UsageRecordFactory

    # Given five customers of one salesperson who all fell from 10 a month to nothing
    series = DeviceSeriesFactory(code="L")
    for name in ("在用", "已删除", "已停用", "已流失", "他人"):
        c = CustomerFactory(name=name, sales_owner=sales_user)
        for day in (dt.date(2025, 9, 10), dt.date(2025, 10, 10), dt.date(2025, 11, 10)):
            UsageRecordFactory(customer=c, series=series, shot_date=day, shots=10)
    Customer.objects.filter(name="已删除").update(is_deleted=True)
    Customer.objects.filter(name="已停用").update(disabled=True)
    Customer.objects.filter(name="已流失").update(lifecycle_status=LifecycleStatus.CHURNED)
    Customer.objects.filter(name="他人").update(sales_owner=None)

    # Then only the customer in use warns; the salesperson no longer sees the one passed on
    today = dt.date(2026, 1, 15)
    manager = selectors.churn_warnings(manager_user, today=today)
    # (equal falls rank by customer id: the first created first)
    assert manager["count"] == 2
    assert [r["customer__name"] for r in manager["rows"]] == ["在用", "他人"]
    sales = selectors.churn_warnings(sales_user, today=today)
    assert [r["customer__name"] for r in sales["rows"]] == ["在用"]


def test_cockpit_runs_a_fixed_number_of_queries(world, manager_user, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        selectors.cockpit(manager_user, today=TODAY)


def test_totals_from_months_equal_the_direct_totals(world, manager_user):
    months = selectors.receivables_by_month(manager_user, filters=ALL, today=TODAY)

    assert selectors.receivable_totals_of(months) == selectors.receivable_totals(
        manager_user, filters=ALL, today=TODAY
    )


def test_cockpit_is_cached_per_scope_until_refreshed(
    world, manager_user, sales_user, django_assert_num_queries
):
    first = selectors.cockpit_cached(manager_user, today=TODAY)
    world.bills["a11"].amount_paid = D("500.00")
    world.bills["a11"].status = "paid"
    world.bills["a11"].save()

    with django_assert_num_queries(0):
        again = selectors.cockpit_cached(manager_user, today=TODAY)
    refreshed = selectors.cockpit_cached(manager_user, today=TODAY, refresh=True)
    mine = selectors.cockpit_cached(sales_user, today=TODAY)

    assert again["overdue"] == first["overdue"] == D("3900.00")
    assert refreshed["overdue"] == D("3400.00")
    assert mine["overdue"] == D("1400.00")  # a sales user never gets the all-customers figures


def _freeze_today(monkeypatch):
    # timezone is django.utils.timezone itself: only today moves, converting a value still works
    real = timezone.localdate
    monkeypatch.setattr(
        "reports.tasks.timezone.localdate",
        lambda value=None, timezone=None: TODAY if value is None else real(value, timezone),
    )


def test_cockpit_warm_task_fills_the_all_customers_cache(world, manager_user, monkeypatch):
    from reports.tasks import cockpit_warm_task

    _freeze_today(monkeypatch)

    assert cockpit_warm_task() is True
    assert selectors.cockpit_cached(manager_user, today=TODAY)["overdue"] == D("3900.00")
    # and the customers' billed totals moved to the cockpit's twelve months of TODAY
    assert money_totals.billed_window() == (dt.date(2025, 1, 1), dt.date(2025, 12, 1))


def test_top_customers_read_from_the_kept_totals_equal_the_bills(world, manager_user, sales_user):
    def top(user):
        return [
            (r["customer__company_id"], r["revenue"], r["received"])
            for r in selectors.top_customers(user, today=TODAY)
        ]

    # Given the rows grouped from the bills (the totals count another window)
    assert money_totals.billed_window() != selectors.top_window(TODAY)
    from_bills = {user: top(user) for user in (manager_user, sales_user)}
    # When the totals move to the cockpit's window / Then they rank the same rows, in scope
    assert selectors.top_window_keep(TODAY) is True
    assert selectors.top_window_keep(TODAY) is False
    with CaptureQueriesContext(connection) as queries:
        assert top(manager_user) == from_bills[manager_user]
    assert "billing_customerbilledtotal" in queries.captured_queries[1]["sql"]
    assert top(sales_user) == from_bills[sales_user]
    assert {row[0] for row in from_bills[sales_user]} == {1001, 1002}


@pytest.mark.parametrize(
    ("status", "due", "bucket"),
    [
        ("issued", dt.date(2026, 1, 20), "current"),  # due today
        ("issued", dt.date(2026, 1, 19), "age_0_30"),
        ("partially_paid", dt.date(2025, 12, 21), "age_0_30"),  # 30 days
        ("partially_paid", dt.date(2025, 12, 20), "age_31_60"),  # 31 days
        ("issued", dt.date(2025, 11, 21), "age_31_60"),  # 60 days
        ("issued", dt.date(2025, 11, 20), "age_61_90"),  # 61 days
        ("issued", dt.date(2025, 10, 22), "age_61_90"),  # 90 days
        ("issued", dt.date(2025, 10, 21), "age_90_plus"),  # 91 days
        ("paid", dt.date(2025, 1, 1), "current"),
        ("issued", None, "current"),
    ],
)
def test_age_bucket(status, due, bucket):
    assert selectors.age_bucket(status=status, due_date=due, today=TODAY) == bucket


@pytest.mark.parametrize("today", [dt.date(2025, 12, 30), dt.date(2025, 12, 31), TODAY])
def test_totals_equal_the_sum_of_rows_on_any_day(world, manager_user, today):
    rows = list(selectors.receivable_rows(manager_user, filters=ALL, today=today))
    totals = selectors.receivable_totals(manager_user, filters=ALL, today=today)

    for key in RECEIVABLE_KEYS:
        assert totals[key] == sum((getattr(r, key) for r in rows), D("0.00")), key


def test_payment_totals_from_months_equal_the_direct_totals(world, manager_user):
    months = selectors.payments_by_month(manager_user, filters=ALL)

    assert selectors.payment_totals_of(months) == selectors.payment_totals(
        manager_user, filters=ALL
    )


# --- one overdue rule; the covering index behind the receivables figures ----------------


def test_reports_use_billing_overdue_rule():
    from billing.bills import selectors as billing_selectors
    from reports import selectors as report_selectors

    assert report_selectors.overdue_q is billing_selectors.overdue_q


@pytest.mark.django_db
def test_receivables_covering_index_exists_on_postgres(db):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'billing_bill_receivables_idx'"
        )
        (definition,) = cur.fetchone()
    assert "(customer_id, period) INCLUDE (status, due_date, total, amount_paid)" in definition
    assert "WHERE ((kind)::text = 'bill'::text)" in definition


def test_usage_index_covers_the_shots_reports_sum(db):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'billing_usage_customer_idx'"
        )
        (definition,) = cur.fetchone()
    assert "(customer_id, series_id, shot_date) INCLUDE (shots, floors)" in definition


def test_receivable_groups_read_only_columns_of_the_covering_index(sales_user):
    # The covering index holds customer, period, status, due date, total and amount paid: a
    # grouped read naming the id (COUNT(id)) could not be answered from the index alone.
    sql = str(selectors.receivable_groups_query(sales_user, ALL, "period").query)
    assert '"billing_bill"."id"' not in sql
    assert '"billing_bill"."total"' in sql


def test_cockpit_warm_task_keeps_the_scorecard_warm(world, manager_user, monkeypatch):
    from django.core.cache import cache

    from reports.tasks import cockpit_warm_task

    _freeze_today(monkeypatch)
    cache.clear()

    # Given no scorecard yet: the warm job computes it
    assert cockpit_warm_task() is True
    first = selectors.scorecard_cached(manager_user, today=TODAY)["computed_at"]

    # When it runs again soon after, the copy is kept
    cockpit_warm_task()
    assert selectors.scorecard_cached(manager_user, today=TODAY)["computed_at"] == first

    # and once the copy is older than the warm-after age, it is recomputed
    later = first + selectors.SCORECARD_WARM_AFTER + dt.timedelta(minutes=1)
    monkeypatch.setattr("reports.tasks.timezone.now", lambda: later)
    cockpit_warm_task()
    assert selectors.scorecard_cached(manager_user, today=TODAY)["computed_at"] > first


@pytest.mark.parametrize(
    "filters",
    [
        ALL,
        ReportFilters(level="A"),
        ReportFilters(month_from=dt.date(2025, 11, 1), month_to=dt.date(2025, 12, 1)),
    ],
)
def test_receivable_groups_from_the_totals_equal_those_of_the_bills(
    world, manager_user, sales_user, filters
):
    # The groups read from the money totals kept on write are the bills' own groups.
    for user in (manager_user, sales_user):
        for key in ("period", "customer__group__name"):
            from_totals = selectors._receivable_groups(user, filters, key)
            from_bills = list(selectors.receivable_groups_query(user, filters, key))

            def key_of(row, key=key):
                return (str(row[key]), row["status"], str(row["due_date"]))

            assert sorted(from_totals, key=key_of) == sorted(from_bills, key=key_of)


def test_payment_rows_from_the_totals_equal_those_of_the_payments(world, manager_user, sales_user):
    for user in (manager_user, sales_user):
        from_totals = list(selectors.payments_by_customer(user, filters=ALL))
        from_payments = list(
            selectors._payments(user, ALL)
            .values("customer_id")
            .annotate(**selectors.PAYMENT_AGGREGATES)
            .order_by("-received", "customer_id")
        )
        assert from_totals == from_payments
        assert from_totals
