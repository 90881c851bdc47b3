"""The scorecard page and its figures on a hand-computed world.

Today is 2026-06-15, go-live 2026-01: the baseline months are 2025-10, 2025-11 and
2025-12, the last full month 2026-05. Figures below are worked out by hand.

Bills (live and issued unless said; payments by the day the money arrived):
  2025-10  P 1000 due 2025-11-30, 1000 received 2025-11-20     → on time
           Q  500 due 2025-11-30,  500 received 2025-12-20     → late, within 30 days
           R  500 due 2025-11-30, never paid                   → late, bad debt
    overdue 2/3 = 66.67%; collected 1500 / 2000 = 75%; bad debt 500 / 2000 = 25%; accuracy 3/3
  2025-11  P 1000 due 2025-12-31, 1000 received 2025-12-31     → on time
           Q  999 reversed (its credit note −999 is not a bill)
           Q  400 the corrected bill, with a manual line, due 2025-12-31,
                  400 received 2026-02-15                       → late, after 30 days
    overdue 1/2 = 50%; collected 1000 / 1400 = 71.43%; bad debt 0%; accuracy 1/3 = 33.33%
  2025-12  no bills.
  Baselines: overdue (66.67 + 50) / 2 = 58.34%; collection (75 + 71.43) / 2 = 73.22%;
  bad debt (25 + 0) / 2 = 12.5%; accuracy (100 + 33.33) / 2 = 66.67%.
  2026-03  P 2000 due 2026-04-30, 2000 received 2026-04-10     → on time
           R 1000 due 2026-04-30, 600 received 2026-04-25, 400 received 2026-05-05
                  (and 400 received 2026-04-20 whose allocation was undone) → late
    overdue 1/2 = 50%; collected 3000 / 3000 = 100%; bad debt not yet (due + 90 > today)
  2026-05  Q 100 due 2026-06-30                                  → not due yet; accuracy 1/1
  Latest: overdue 50% (2026-03), −14.30% against 58.34%: target −30% not met;
  collection 100% (2026-03), +36.57%: met; accuracy 100% (2026-05): met.

Usage (shots per month) for the churn back-test as of 2026-03-01:
  U1 20/20/20 in Nov–Jan, 2 in Feb, then nothing  → fell, churned
  U2 10/10/10 in Nov–Jan, 1 in Feb, 5 in April    → fell, not churned
  U4 40 in 2025-10, then nothing                  → quiet, churned
  precision 2/3 = 66.67%; as of 2026-04 the outcome (April–June) is not known yet.

Adoption in May 2026 (21 working days, weeks of 4, 11, 18, 25 May):
  ops O1 (joined 2026-01-01) logged in on 4 May, audited on 5 May; O2 joined and
  audited on 29 May → (1 + 1 + 0.5) / 21 = 11.90%.
  sales S1 audited on 6 May, logged in on 26 May; S2 never → (½ + 0 + 0 + ½) / 4 = 25%.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from auditlog.models import LogEntry
from axes.models import AccessLog
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from billing.models import Bill, BillLine
from reports import selectors
from tests.factories import (
    AllocationFactory,
    CustomerFactory,
    ReportBillFactory,
    ReportBillLineFactory,
    ReportPaymentFactory,
    UsageRecordFactory,
    UserFactory,
)

D = Decimal
M = dt.date
TODAY = M(2026, 6, 15)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    local = timezone.get_current_timezone()
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=local)


def _bill(customer, period, total, due, status=Bill.Status.ISSUED, paid="0.00"):
    return ReportBillFactory(
        customer=customer,
        period=period,
        total=D(total),
        amount_paid=D(paid),
        due_date=due,
        status=status,
    )


def _pay(bill, amount, received_on, undone=False):
    payment = ReportPaymentFactory(
        customer=bill.customer, amount=D(amount), allocated=D(amount), received_on=received_on
    )
    return AllocationFactory(
        payment=payment,
        bill=bill,
        amount=D(amount),
        undone_at=_at(received_on) if undone else None,
    )


@pytest.fixture
def go_live(settings):
    settings.OPCMS_GO_LIVE = "2026-01"


@pytest.fixture
def bills(db, go_live):
    paid, part = Bill.Status.PAID, Bill.Status.PARTIALLY_PAID
    p = CustomerFactory(company_id=2001, name="平安房产")
    q = CustomerFactory(company_id=2002, name="齐家经纪")
    r = CustomerFactory(company_id=2003, name="荣华平台")
    oct_, nov, mar, may = M(2025, 10, 1), M(2025, 11, 1), M(2026, 3, 1), M(2026, 5, 1)
    b = {}
    b["p10"] = _bill(p, oct_, "1000.00", M(2025, 11, 30), paid, "1000.00")
    _pay(b["p10"], "1000.00", M(2025, 11, 20))
    b["q10"] = _bill(q, oct_, "500.00", M(2025, 11, 30), paid, "500.00")
    _pay(b["q10"], "500.00", M(2025, 12, 20))
    b["r10"] = _bill(r, oct_, "500.00", M(2025, 11, 30))
    b["p11"] = _bill(p, nov, "1000.00", M(2025, 12, 31), paid, "1000.00")
    _pay(b["p11"], "1000.00", M(2025, 12, 31))
    b["q11_reversed"] = _bill(q, nov, "999.00", M(2025, 12, 31), Bill.Status.REVERSED)
    b["q11_credit"] = ReportBillFactory(
        customer=q,
        period=nov,
        kind=Bill.Kind.CREDIT_NOTE,
        total=D("-999.00"),
        due_date=None,
        reverses=b["q11_reversed"],
    )
    b["q11"] = _bill(q, nov, "400.00", M(2025, 12, 31), Bill.Status.DRAFT)
    ReportBillLineFactory(bill=b["q11"], line_type=BillLine.LineType.MANUAL, amount=D("400.00"))
    Bill.objects.filter(pk=b["q11"].pk).update(status=paid, amount_paid=D("400.00"))
    _pay(b["q11"], "400.00", M(2026, 2, 15))
    b["p03"] = _bill(p, mar, "2000.00", M(2026, 4, 30), paid, "2000.00")
    _pay(b["p03"], "2000.00", M(2026, 4, 10))
    b["r03"] = _bill(r, mar, "1000.00", M(2026, 4, 30), paid, "1000.00")
    _pay(b["r03"], "400.00", M(2026, 4, 20), undone=True)
    _pay(b["r03"], "600.00", M(2026, 4, 25))
    _pay(b["r03"], "400.00", M(2026, 5, 5))
    b["q05"] = _bill(q, may, "100.00", M(2026, 6, 30), part, "0.00")
    return b


@pytest.fixture
def usage(db):
    customers = {
        n: CustomerFactory(company_id=3000 + i, name=n) for i, n in enumerate("U1 U2 U4".split())
    }
    shots = {
        "U1": {M(2025, 11, 1): 20, M(2025, 12, 1): 20, M(2026, 1, 1): 20, M(2026, 2, 1): 2},
        "U2": {
            M(2025, 11, 1): 10,
            M(2025, 12, 1): 10,
            M(2026, 1, 1): 10,
            M(2026, 2, 1): 1,
            M(2026, 4, 1): 5,
        },
        "U4": {M(2025, 10, 1): 40},
    }
    for name, months in shots.items():
        for month, count in months.items():
            UsageRecordFactory(
                customer=customers[name], shot_date=month.replace(day=10), shots=count
            )
    return customers


@pytest.fixture
def staff(db):
    def user(name, role, joined):
        return UserFactory(username=name, role=role, date_joined=_at(joined, 9))

    o1 = user("o1", Role.OPS, M(2026, 1, 1))
    o2 = user("o2", Role.OPS, M(2026, 5, 29))
    s1 = user("s1", Role.SALES, M(2026, 1, 1))
    s2 = user("s2", Role.SALES, M(2026, 1, 1))
    for username, day in (("o1", M(2026, 5, 4)), ("s1", M(2026, 5, 26))):
        login = AccessLog.objects.create(username=username, user_agent="t", ip_address="127.0.0.1")
        # attempt_time is auto_now_add: set the day of the login afterwards
        AccessLog.objects.filter(pk=login.pk).update(attempt_time=_at(day))
    for actor, day in ((o1, M(2026, 5, 5)), (o2, M(2026, 5, 29)), (s1, M(2026, 5, 6))):
        LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(Bill),
            object_pk="1",
            object_repr="x",
            action=LogEntry.Action.UPDATE,
            actor=actor,
            timestamp=_at(day),
        )
    return {"o1": o1, "o2": o2, "s1": s1, "s2": s2}


def _row(card, key):
    return next(r for r in card["rows"] if r.figure.key == key)


def test_money_figures_per_month_and_against_the_baseline(bills, manager_user):
    # When
    card = selectors.scorecard(manager_user, today=TODAY)

    # Then the window is the three baseline months and January to May
    assert card["go_live"] == M(2026, 1, 1) and card["configured"] is True
    assert card["baseline_months"] == [M(2025, 10, 1), M(2025, 11, 1), M(2025, 12, 1)]
    assert card["months"][-1] == M(2026, 5, 1)
    overdue = dict(_row(card, "overdue_rate").values)
    collection = dict(_row(card, "collection_rate").values)
    bad_debt = dict(_row(card, "bad_debt_share").values)
    accuracy = dict(_row(card, "bill_accuracy").values)
    assert (overdue[M(2025, 10, 1)], overdue[M(2025, 11, 1)]) == (D("0.6667"), D("0.5000"))
    assert overdue[M(2025, 12, 1)] is None and overdue[M(2026, 5, 1)] is None
    assert overdue[M(2026, 3, 1)] == D("0.5000")
    assert (collection[M(2025, 10, 1)], collection[M(2025, 11, 1)]) == (
        D("0.7500"),
        D("0.7143"),
    )
    assert collection[M(2026, 3, 1)] == D("1.0000")
    assert (bad_debt[M(2025, 10, 1)], bad_debt[M(2025, 11, 1)]) == (D("0.2500"), D("0.0000"))
    assert bad_debt[M(2026, 3, 1)] is None
    assert accuracy[M(2025, 11, 1)] == D("0.3333")
    assert accuracy[M(2026, 5, 1)] == D("1.0000")

    row = _row(card, "overdue_rate")
    assert (row.baseline, row.latest_month, row.latest) == (
        D("0.5834"),
        M(2026, 3, 1),
        D("0.5000"),
    )
    assert row.change == D("-0.1430") and row.met is False
    row = _row(card, "collection_rate")
    assert (row.baseline, row.change, row.met) == (D("0.7322"), D("0.3657"), True)
    row = _row(card, "bad_debt_share")
    assert (row.baseline, row.latest, row.met) == (D("0.1250"), None, None)
    row = _row(card, "bill_accuracy")
    assert (row.baseline, row.latest, row.met) == (D("0.6667"), D("1.0000"), True)


def test_churn_precision_back_tested(usage, bills, manager_user):
    card = selectors.scorecard(manager_user, today=TODAY, detail_month=M(2026, 3, 1))

    churn = dict(_row(card, "churn_precision").values)
    assert churn[M(2026, 3, 1)] == D("0.6667")
    assert churn[M(2026, 4, 1)] is None  # April–June not over
    warned = {(r["name"], r["warning"].signal, r["warning"].churned) for r in card["churn_detail"]}
    assert warned == {("U1", "fell", True), ("U2", "fell", False), ("U4", "quiet", True)}


def test_adoption_from_logins_and_audit_entries(staff, bills, manager_user):
    card = selectors.scorecard(manager_user, today=TODAY, detail_month=M(2026, 5, 1))

    ops = _row(card, "ops_daily_active")
    sales = _row(card, "sales_weekly_active")
    assert (ops.latest_month, ops.latest) == (M(2026, 5, 1), D("0.1190"))
    assert (sales.latest_month, sales.latest) == (M(2026, 5, 1), D("0.2500"))
    assert ops.baseline is None  # no system before go-live
    days = {r["user"].username: r["active_days"] for r in card["adoption_detail"]}
    assert days == {"o1": 2, "o2": 1, "s1": 2, "s2": 0}


def test_go_live_defaults_to_the_first_issued_bill_month(bills, manager_user, settings):
    settings.OPCMS_GO_LIVE = ""

    card = selectors.scorecard(manager_user, today=TODAY)

    assert card["go_live"] == M(2025, 10, 1) and card["configured"] is False
    assert _row(card, "overdue_rate").baseline is None


# --- drill-downs: the bill list shows exactly the bills a figure counted -------------------


@pytest.fixture
def bill_list_today(monkeypatch):
    monkeypatch.setattr("billing.bills.filters.timezone", SimpleNamespace(localdate=lambda: TODAY))


def _listed(client, **params) -> set[str]:
    response = client.get(reverse("billing:bill-list"), params)
    assert response.status_code == 200
    return {bill.number for bill in response.context["table"].data}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"period": "2025-10", "unpaid_days": "0"}, {"q10", "r10"}),  # late: 2 of …
        ({"period": "2025-10", "assessed_days": "0"}, {"p10", "q10", "r10"}),  # … 3
        ({"period": "2025-11", "assessed_days": "30"}, {"p11", "q11"}),  # collection base
        ({"period": "2025-10", "unpaid_days": "90"}, {"r10"}),  # bad debt
        ({"period": "2026-03", "unpaid_days": "0"}, {"r03"}),  # the undone 400 does not count
        ({"period": "2025-11", "corrected": "1"}, {"q11_reversed", "q11"}),
        ({"period": "2025-11", "status": "issued_ever"}, {"p11", "q11_reversed", "q11"}),
    ],
)
def test_drill_down_lists_the_counted_bills(
    client, bills, manager_user, bill_list_today, params, expected
):
    client.force_login(manager_user)

    assert _listed(client, **params) == {bills[k].number for k in expected}


def test_bad_drill_down_parameter_names_the_field(client, bills, manager_user):
    client.force_login(manager_user)

    page = client.get(reverse("billing:bill-list"), {"period": "2025-10", "unpaid_days": "-1"})

    assert page.status_code == 200
    assert "到期后仍未结清天数" in page.content.decode()


# --- the page ----------------------------------------------------------------------------


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr("reports.views._today", lambda: TODAY)


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMIN, 200), (Role.MANAGER, 200), (Role.OPS, 200), (Role.SALES, 403), ("", 403)],
)
def test_who_may_open_the_scorecard(client, db, go_live, fixed_today, role, status):
    client.force_login(UserFactory(role=role))

    assert client.get(reverse("reports:scorecard")).status_code == status


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("reports:scorecard"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("role", "shown"), [(Role.MANAGER, True), (Role.SALES, False)])
def test_navigation_links_the_scorecard_for_those_who_may_open_it(client, db, role, shown):
    client.force_login(UserFactory(role=role))

    page = client.get(reverse("reports:index")).content.decode()

    assert ('id="nav-scorecard"' in page) is shown


def test_page_shows_each_figure_with_definition_and_drill_down(
    client, bills, manager_user, fixed_today
):
    client.force_login(manager_user)

    page = client.get(reverse("reports:scorecard")).content.decode()

    for label in (
        "客户逾期率",
        "客户回款率",
        "坏账率",
        "账单生成准确率",
        "流失预警准确率",
        "运营人员日活跃率",
        "销售人员周活跃率",
    ):
        assert label in page
    assert "口径：" in page and "基线 58.3%" in page and "较基线 -14.3%" in page
    assert "50.0%" in page and "未达标" in page
    assert f"{reverse('billing:bill-list')}?period=2026-03&amp;unpaid_days=0" in page
    assert f"{reverse('billing:bill-list')}?period=2025-11&amp;corrected=1" in page
    assert (
        "<script>" not in page.split('id="scorecard"')[1]
        and " onclick=" not in page.split('id="scorecard"')[1]
    )


def test_bad_detail_month_is_named_not_a_500(client, bills, manager_user, fixed_today):
    client.force_login(manager_user)

    page = client.get(reverse("reports:scorecard"), {"month": "2026-13"}).content.decode()

    assert "明细月份" in page and "请输入月份" in page


def test_page_without_any_issued_bill_says_what_to_do(
    client, db, manager_user, fixed_today, settings
):
    settings.OPCMS_GO_LIVE = ""
    client.force_login(manager_user)

    page = client.get(reverse("reports:scorecard")).content.decode()

    assert 'id="scorecard-empty"' in page and "OPCMS_GO_LIVE" in page


def test_churn_drill_down_lists_the_warned_customers_of_the_month(
    client, usage, bills, manager_user, fixed_today
):
    client.force_login(manager_user)

    page = client.get(reverse("reports:scorecard"), {"month": "2026-03"}).content.decode()

    table = page.split('id="churn-detail-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 4  # the header and U1, U2, U4
    assert "无用量（预警准确）" in table and "仍有用量" in table
