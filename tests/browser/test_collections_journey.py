"""Browser journey: sales1 logs a call with a promise, the date passes, the team lead sees it broken."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.roles import Role
from billing.models import Bill
from tests.factories import CustomerFactory, ReportBillFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_broken_promise_reaches_the_team_leads_desk(login_page, sales_user, beat_schedules):
    # Given sales1 in the lead's team, with a customer whose ¥1,200 bill is 3 days overdue
    team = TeamFactory(name="华东组")
    lead = UserFactory(role=Role.SALES, username="lead1", full_name="张组长", team=team)
    team.lead = lead
    team.save()
    sales_user.team = team
    sales_user.save()
    today = timezone.localdate()
    customer = CustomerFactory(name="承诺测试房产", sales_owner=sales_user)
    ReportBillFactory(
        customer=customer,
        total=Decimal("1200.00"),
        status=Bill.Status.ISSUED,
        due_date=today - dt.timedelta(days=3),
    )

    # When sales1 opens the desk on a phone-sized screen and logs a call with a promise for today
    page = login_page(sales_user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/billing/collections/")
    row = page.locator("#desk-table tr.desk-row")
    assert row.count() == 1 and "承诺测试房产" in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row.locator("a.desk-follow-up").click()
    page.select_option("#id_channel", "call")
    page.select_option("#id_outcome", "promised")
    page.fill("#id_note", "财务答应今天转账")
    page.fill("#id_promise_amount", "1200")
    page.fill("#id_promise_date", today.isoformat())
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("#contact-list .contact")
    assert "承诺付款：财务答应今天转账" in page.inner_text("#contact-list")
    assert "待兑现" in page.inner_text("#promise-list")

    # And the promised day passes without money (the nightly scheduler runs tomorrow)
    call_command(
        "run_schedule", "--today", (today + dt.timedelta(days=1)).isoformat(), stdout=StringIO()
    )

    # Then the team lead sees the promise broken on the desk, and was told
    page.context.clear_cookies()
    page = login_page(lead)
    assert page.inner_text("#nav-bell-count") == "1"
    page.goto(f"{page.base_url}/billing/collections/")
    row = page.locator("#desk-table tr.desk-row", has_text="承诺测试房产")
    assert f"已违约（{today:%Y-%m-%d}）" in row.locator(".promise-broken").inner_text()
