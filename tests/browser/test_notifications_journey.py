"""Browser journey: a salesperson sees the bell, opens the inbox and follows it to the overdue bill."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import CustomerFactory, issued_bill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sales_follows_the_bell_to_the_overdue_bill(login_page, sales_user, ops_user):
    # Given a bill of the salesperson's customer, due eight days ago and unpaid,
    # and last night's scheduler run
    today = timezone.localdate()
    customer = CustomerFactory(name="铃铛测试房产", sales_owner=sales_user)
    bill = issued_bill(
        user=ops_user, customer=customer, lines=["480.00"], due_date=today - dt.timedelta(days=8)
    )
    call_command("run_schedule", "--today", today.isoformat(), stdout=StringIO())

    # When the salesperson logs in
    page = login_page(sales_user)

    # Then the bell shows one unread notification
    assert page.inner_text("#nav-bell-count") == "1"

    # When they open the inbox and follow the notification
    page.click("#nav-bell")
    item = page.locator("#inbox .notification.unread")
    assert f"账单 {bill.number} 已逾期 8 天" in item.inner_text()
    item.locator("a.notification-link").click()

    # Then they are on the bill, and the bell is quiet
    page.wait_for_url(f"**/billing/bills/{bill.pk}/")
    assert bill.number in page.inner_text("h1")
    assert page.locator(".bill-overdue").first.is_visible()
    assert page.locator("#nav-bell-count").count() == 0
