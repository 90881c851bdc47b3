"""The desk's reads: risk order, scope, the 24-hour measure and the credit score."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing.collections.selectors import (
    credit_score_compute,
    credit_scores,
    desk_customers,
    desk_rows,
    measure_24h,
    overdue_start,
)
from billing.models import Bill, PaymentAllocation, PaymentPromise
from tests.factories import (
    AllocationFactory,
    CollectionContactFactory,
    CustomerFactory,
    PaymentPromiseFactory,
    ReportBillFactory,
    ReportPaymentFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def overdue_bill(customer, *, amount: str, days: int, paid: str = "0.00"):
    """An issued bill `days` days past its due date with `amount` − `paid` still owed."""
    due = TODAY - dt.timedelta(days=days)
    return ReportBillFactory(
        customer=customer,
        period=dt.date(due.year, due.month, 1),
        total=Decimal(amount),
        amount_paid=Decimal(paid),
        status=Bill.Status.PARTIALLY_PAID if Decimal(paid) else Bill.Status.ISSUED,
        due_date=due,
    )


def names(user):
    rows = desk_rows(desk_customers(user, today=TODAY), today=TODAY)
    return [r.customer.name for r in rows]


def test_rows_come_in_risk_order_amount_times_age(ops_user):
    # Given three overdue customers: ¥1,000 for 10 days (risk 10,000), ¥200 for 100 days
    # (20,000) and ¥5,000 for 1 day (5,000); and a customer whose bill is not yet due
    overdue_bill(CustomerFactory(name="甲"), amount="1000.00", days=10)
    overdue_bill(CustomerFactory(name="乙"), amount="200.00", days=100)
    overdue_bill(CustomerFactory(name="丙"), amount="5000.00", days=1)
    overdue_bill(CustomerFactory(name="丁"), amount="9000.00", days=0)

    # When ops open the desk / Then the highest risk comes first; not-yet-overdue is absent
    rows = desk_rows(desk_customers(ops_user, today=TODAY), today=TODAY)
    assert [r.customer.name for r in rows] == ["乙", "甲", "丙"]
    assert [r.risk for r in rows] == [Decimal("20000.00"), Decimal("10000.00"), Decimal("5000.00")]


def test_row_adds_up_the_customers_overdue_bills_and_shows_the_oldest(ops_user):
    # Given a customer with two overdue bills (one part paid) and one not due
    customer = CustomerFactory()
    overdue_bill(customer, amount="300.00", days=40, paid="100.00")
    overdue_bill(customer, amount="150.00", days=10)
    overdue_bill(customer, amount="999.00", days=-5)

    (row,) = desk_rows(desk_customers(ops_user, today=TODAY), today=TODAY)

    assert row.overdue_amount == Decimal("350.00")
    assert row.oldest_days == 40


def test_each_role_sees_its_own_scope(team, ops_user, manager_user):
    # Given one overdue customer per salesperson, the lead's own included
    for key in ("sales1", "sales2", "lead", "other"):
        overdue_bill(
            CustomerFactory(name=f"{key}的客户", sales_owner=team[key]), amount="100", days=5
        )

    # Then sales1 sees only their own, the lead the team's, ops and managers all
    assert names(team["sales1"]) == ["sales1的客户"]
    assert sorted(names(team["lead"])) == sorted(["sales1的客户", "sales2的客户", "lead的客户"])
    assert len(names(ops_user)) == 4
    assert len(names(manager_user)) == 4


def test_row_shows_last_contact_open_and_broken_promises(ops_user):
    customer = CustomerFactory()
    overdue_bill(customer, amount="100", days=5)
    late = dt.datetime(2026, 11, 29, 15, 0, tzinfo=SHANGHAI)
    CollectionContactFactory(customer=customer, at=late - dt.timedelta(days=3))
    CollectionContactFactory(customer=customer, at=late)
    PaymentPromiseFactory(customer=customer, promised_date=dt.date(2026, 12, 5), amount="80")
    PaymentPromiseFactory(
        customer=customer,
        promised_date=dt.date(2026, 11, 20),
        status=PaymentPromise.Status.BROKEN,
        broken_at=timezone.now(),
    )

    (row,) = desk_rows(desk_customers(ops_user, today=TODAY), today=TODAY)

    assert row.last_contact_at == late
    assert (row.promise_date, row.promise_amount) == (dt.date(2026, 12, 5), Decimal("80.00"))
    assert row.broken_promise_date == dt.date(2026, 11, 20)


# --- the 24-hour measure ----------------------------------------------------------


def test_overdue_starts_at_local_midnight_after_the_due_date():
    start = overdue_start(dt.date(2026, 11, 9))
    assert start == dt.datetime(2026, 11, 10, 0, 0, tzinfo=SHANGHAI)


def test_measure_counts_a_contact_at_23_hours_and_not_at_25(team, ops_user):
    # Given two customers of sales1 and one of sales9 (another team), each with a bill due on
    # 2026-11-09 and unpaid, so newly overdue at 2026-11-10 00:00
    due = dt.date(2026, 11, 9)
    start = overdue_start(due)
    fast = CustomerFactory(name="快", sales_owner=team["sales1"])
    slow = CustomerFactory(name="慢", sales_owner=team["sales1"])
    never = CustomerFactory(name="无", sales_owner=team["other"])
    bills = {}
    for customer in (fast, slow, never):
        bills[customer.pk] = ReportBillFactory(
            customer=customer, total=Decimal("1000.00"), due_date=due
        )
    # a bill paid in full before it fell due is not newly overdue
    paid_customer = CustomerFactory(sales_owner=team["sales1"])
    paid = ReportBillFactory(customer=paid_customer, total=Decimal("50.00"), due_date=due)
    allocation = AllocationFactory(
        bill=paid, payment=ReportPaymentFactory(customer=paid_customer), amount="50.00"
    )
    PaymentAllocation.objects.filter(pk=allocation.pk).update(
        created_at=start - dt.timedelta(days=2)
    )
    # When the first is called at 23 h, the second at 25 h, the third never
    CollectionContactFactory(customer=fast, at=start + dt.timedelta(hours=23))
    CollectionContactFactory(customer=slow, at=start + dt.timedelta(hours=25))
    # and the fast one pays ¥600 on day 10, ¥400 more on day 31 (outside the 30 days)
    for amount, day in (("600.00", 10), ("400.00", 31)):
        a = AllocationFactory(
            bill=bills[fast.pk],
            payment=ReportPaymentFactory(customer=fast, amount=amount),
            amount=amount,
        )
        PaymentAllocation.objects.filter(pk=a.pk).update(created_at=start + dt.timedelta(days=day))

    # Then over November 2026: 3 newly overdue, 1 within 24 h, ¥600 collected
    m = measure_24h(ops_user, date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30))
    assert (m.total.newly_overdue, m.total.contacted) == (3, 1)
    assert m.total.share == pytest.approx(1 / 3)
    assert m.total.collected == Decimal("600.00")
    assert m.total.overdue_amount == Decimal("3000.00")
    by_sales = {r.label: (r.newly_overdue, r.contacted) for r in m.by_sales}
    assert by_sales == {"王珂": (2, 1), "周文": (1, 0)}
    by_team = {r.label: (r.newly_overdue, r.contacted) for r in m.by_team}
    assert by_team == {"华东组": (2, 1), "华南组": (1, 0)}
    # and the cockpit's summary (summed in the database, no cases) has the same figures
    summary = measure_24h(
        ops_user, date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30), with_cases=False
    )
    assert summary.total == m.total and summary.cases == []
    assert [(r.label, r.newly_overdue, r.contacted, r.collected) for r in summary.by_team] == [
        (r.label, r.newly_overdue, r.contacted, r.collected) for r in m.by_team
    ]
    # and the lead sees only the team's cases
    lead = measure_24h(team["lead"], date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30))
    assert (lead.total.newly_overdue, lead.total.contacted) == (2, 1)
    # and a period that ends before the day they became overdue has none
    before = measure_24h(ops_user, date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 9))
    assert before.total.newly_overdue == 0


# --- the credit score --------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "score", "grade"),
    [
        # always paid on time, nothing overdue: full marks
        (
            {
                "paid_delays": [0, -3, 0],
                "overdue_bills": 0,
                "overdue_now_days": 0,
                "broken_promises": 0,
            },
            100,
            "优",
        ),
        # paid 10 and 20 days late (avg 15 → −15), both counted overdue (−10)
        (
            {
                "paid_delays": [10, 20],
                "overdue_bills": 2,
                "overdue_now_days": 0,
                "broken_promises": 0,
            },
            75,
            "良",
        ),
        # one bill 45 days overdue now (−5 overdue, −30 age: capped) and one broken promise (−10)
        (
            {"paid_delays": [], "overdue_bills": 1, "overdue_now_days": 45, "broken_promises": 1},
            55,
            "中",
        ),
        # one bill 12 days overdue now (−5 overdue, −12 age)
        (
            {"paid_delays": [], "overdue_bills": 1, "overdue_now_days": 12, "broken_promises": 0},
            83,
            "良",
        ),
        # the worst: every deduction at its cap (30 + 25 + 30 + 30)
        (
            {
                "paid_delays": [90],
                "overdue_bills": 9,
                "overdue_now_days": 300,
                "broken_promises": 5,
            },
            0,
            "差",
        ),
    ],
)
def test_credit_score_on_worked_histories(history, score, grade):
    result = credit_score_compute(**history)
    assert (result.score, result.grade) == (score, grade)


@pytest.mark.parametrize("days", [1, 7, 31, 90])
def test_owing_never_scores_better_than_having_paid_as_late(days):
    # Given two customers whose one bill went overdue: one paid it `days` late, the other
    # has paid nothing and owes it for `days`
    paid_late = credit_score_compute(
        paid_delays=[days], overdue_bills=1, overdue_now_days=0, broken_promises=0
    )
    still_owing = credit_score_compute(
        paid_delays=[], overdue_bills=1, overdue_now_days=days, broken_promises=0
    )

    # Then the one still owing does not score better
    assert still_owing.score <= paid_late.score


def test_credit_score_sentence_explains_the_history():
    result = credit_score_compute(
        paid_delays=[10, 20], overdue_bills=3, overdue_now_days=45, broken_promises=1
    )
    assert result.sentence == (
        "近一年结清 2 张账单，平均逾期 15 天付款，3 张账单曾逾期，当前最久逾期 45 天，违约 1 次付款承诺。"
    )


def test_credit_score_reads_the_payment_history(ops_user):
    # Given a bill paid 12 days late, a bill overdue 30 days now and a broken promise
    customer = CustomerFactory()
    settled = ReportBillFactory(
        customer=customer,
        total=Decimal("100"),
        amount_paid=Decimal("100"),
        status=Bill.Status.PAID,
        due_date=dt.date(2026, 9, 1),
    )
    a = AllocationFactory(bill=settled, payment=ReportPaymentFactory(customer=customer))
    PaymentAllocation.objects.filter(pk=a.pk).update(
        created_at=dt.datetime(2026, 9, 13, 10, 0, tzinfo=SHANGHAI)
    )
    overdue_bill(customer, amount="100", days=30)
    PaymentPromiseFactory(
        customer=customer, status=PaymentPromise.Status.BROKEN, promised_date=dt.date(2026, 11, 1)
    )

    result = credit_scores([customer.pk], today=TODAY)[customer.pk]

    # 100 − 12 (avg late) − 10 (two bills overdue) − 30 (30 days now) − 10 (broken) = 38
    assert result.score == 38
    assert "平均逾期 12 天付款" in result.sentence
