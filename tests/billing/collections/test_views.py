"""The desk pages: scope per role, logging a contact, the statement, the measure, the summary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing.models import Bill, CollectionContact, PaymentPromise
from tests.factories import ContactFactory, CustomerFactory, ReportBillFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def overdue(customer, amount="100.00", days=5):
    due = timezone.localdate() - dt.timedelta(days=days)
    return ReportBillFactory(
        customer=customer, total=Decimal(amount), status=Bill.Status.ISSUED, due_date=due
    )


@pytest.fixture
def desk_world(team):
    customers = {}
    for key in ("sales1", "sales2", "lead", "other"):
        customers[key] = CustomerFactory(name=f"{key}客户", sales_owner=team[key])
        overdue(customers[key])
    return customers


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("sales1", {"sales1客户"}),
        ("lead", {"sales1客户", "sales2客户", "lead客户"}),
        ("ops", {"sales1客户", "sales2客户", "lead客户", "other客户"}),
        ("manager", {"sales1客户", "sales2客户", "lead客户", "other客户"}),
    ],
)
def test_desk_lists_the_scope_of_each_role(
    client, team, desk_world, ops_user, manager_user, who, expected
):
    user = {"ops": ops_user, "manager": manager_user}.get(who) or team[who]
    response = login(client, user).get(reverse("billing:collections-desk"))
    assert response.status_code == 200
    shown = {row.customer.name for row in response.context["table"].data}
    assert shown == expected


def test_desk_names_the_workbook_owner_when_no_user_matches(client, team, ops_user):
    # Given an overdue customer whose workbook owner text matched no user, and one that did
    overdue(CustomerFactory(name="无账号客户", sales_owner=None, sales_owner_raw="老王"))
    overdue(CustomerFactory(name="有账号客户", sales_owner=team["sales1"]))

    # When ops open the desk
    response = login(client, ops_user).get(reverse("billing:collections-desk"))

    # Then the owner column shows the workbook's text for the first and the user for the other
    cells = {
        row.get_cell("customer").split("</a>")[0].rsplit(">", 1)[1]: row.get_cell("owner")
        for row in response.context["table"].rows
    }
    assert cells == {"无账号客户": "老王", "有账号客户": team["sales1"].display_name}


def test_desk_filters_by_search_and_the_htmx_fragment_is_the_table(client, desk_world, ops_user):
    response = login(client, ops_user).get(
        reverse("billing:collections-desk"), {"q": "sales2"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'id="desk"' in html and "<nav" not in html
    assert "sales2客户" in html and "sales1客户" not in html


def test_sales_logs_a_call_with_a_promise_from_the_row(client, team, desk_world):
    customer = desk_world["sales1"]
    url = reverse("billing:collections-customer", args=[customer.pk])
    promised = timezone.localdate() + dt.timedelta(days=3)
    response = login(client, team["sales1"]).post(
        url,
        {
            "channel": "call",
            "outcome": "promised",
            "note": "周五付",
            "promise_amount": "100.00",
            "promise_date": promised.isoformat(),
        },
    )
    assert response.status_code == 302
    assert CollectionContact.objects.get(customer=customer).by == team["sales1"]
    assert PaymentPromise.objects.get(customer=customer).promised_date == promised
    desk = client.get(reverse("billing:collections-desk")).content.decode()
    assert f"{promised:%Y-%m-%d} 前付 ¥100.00" in desk


def test_a_promise_needs_both_amount_and_date(client, team, desk_world):
    url = reverse("billing:collections-customer", args=[desk_world["sales1"].pk])
    response = login(client, team["sales1"]).post(
        url, {"channel": "call", "outcome": "promised", "promise_amount": "100"}
    )
    assert response.status_code == 200
    assert "登记付款承诺需要同时填写金额和日期" in response.content.decode()
    assert not CollectionContact.objects.exists()


def test_out_of_scope_customer_is_404_and_a_manager_may_not_write(
    client, team, desk_world, manager_user
):
    url = reverse("billing:collections-customer", args=[desk_world["other"].pk])
    assert login(client, team["sales1"]).get(url).status_code == 404
    assert client.post(url, {"channel": "call", "outcome": "reached"}).status_code == 404
    client.logout()
    login(client, manager_user)
    assert client.get(url).status_code == 200
    assert client.post(url, {"channel": "call", "outcome": "reached"}).status_code == 403


def test_statement_is_sent_from_the_customer_page(client, team, desk_world):
    customer = desk_world["sales1"]
    ContactFactory(customer=customer, email="boss@example.com", is_primary=True)
    today = timezone.localdate()
    response = login(client, team["sales1"]).post(
        reverse("billing:collections-statement", args=[customer.pk]),
        {"date_from": (today - dt.timedelta(days=90)).isoformat(), "date_to": today.isoformat()},
        follow=True,
    )
    assert "对账单已发送至 boss@example.com" in response.content.decode()
    assert len(mail.outbox) == 1
    assert CollectionContact.objects.filter(customer=customer, outcome="statement_sent").exists()


def test_measure_page_shows_its_definition_and_the_cases(client, team, ops_user):
    customer = CustomerFactory(name="新逾期", sales_owner=team["sales1"])
    overdue(customer, days=2)
    response = login(client, ops_user).get(reverse("billing:collections-measure"))
    html = response.content.decode()
    assert "到期日的次日零点" in html
    assert response.context["measure"].total.newly_overdue == 1
    assert "新逾期" in html


def test_customer_summary_shows_the_credit_score_sentence(client, team, desk_world):
    customer = desk_world["sales1"]
    response = login(client, team["sales1"]).get(
        reverse("billing:customer-summary", args=[customer.pk])
    )
    html = response.content.decode()
    assert 'id="summary-credit-score"' in html
    assert "当前最久逾期 5 天" in html


def test_package_pages_list_and_chart_an_annual_package(client, team):
    from billing.models import PricePlan
    from tests.factories import PricePlanFactory

    today = timezone.localdate()
    customer = CustomerFactory(name="包年房产", sales_owner=team["sales1"])
    plan = PricePlanFactory(
        customer=customer,
        kind=PricePlan.Kind.ANNUAL,
        annual_fee=Decimal("12000"),
        annual_quota=100,
        overage_price=Decimal("5"),
        contract_start=today.replace(day=1),
        valid_from=today.replace(day=1),
    )
    login(client, team["sales1"])
    listing = client.get(reverse("billing:collections-packages")).content.decode()
    assert f'data-plan="{plan.pk}"' in listing and "年度内不会用完" in listing
    page = client.get(reverse("billing:collections-package", args=[plan.pk])).content.decode()
    assert 'id="burn-down-data"' in page and "js/burn_down.js" in page
    assert "<script>" not in page.split('id="chart-burn-down"')[1]  # no inline script
    client.force_login(team["other"])
    assert client.get(reverse("billing:collections-package", args=[plan.pk])).status_code == 404
