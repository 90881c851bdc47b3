"""Money never disappears: a soft-deleted customer's bills and payments stay in the figures.

A customer can be deleted once nothing is owed or unallocated (tests/billing/
test_customer_delete_money.py), but its paid history still happened: receivables, the
cockpit, the payments report and the statement must show the same totals after the
deletion as before, with the customer marked 已删除. Scope does not change: a salesperson
still sees only their own customers, deleted or not.

The world (today = the real date; the settlement month is last month):
  kept  (sales_user)        bill 500.00 for last month, unpaid              → outstanding 500
  gone  (sales_user)        bill 300.00 for last month, paid by 300.00 today → then deleted
  other (other_sales_user)  bill 700.00 for last month, paid by 700.00 today → then deleted
Manager: billed 1500, received 1000, outstanding 500, cash today 1000.
sales_user: billed 800, received 300, outstanding 500, cash today 300.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from billing.payments.services import payment_allocate, payment_record
from customers.models import Customer
from customers.services import customer_soft_delete
from opcms.months import month_shift, month_start
from reports import selectors
from tests import factories

pytestmark = pytest.mark.django_db

D = Decimal


def _paid_customer(*, owner, name, amount, ops_user, today):
    customer = factories.CustomerFactory(sales_owner=owner, name=name)
    bill = factories.issued_bill(
        user=ops_user, customer=customer, period=month_shift(month_start(today), -1), lines=[amount]
    )
    payment = payment_record(
        user=ops_user, customer=customer, amount=D(amount), received_on=today, method="bank"
    )
    payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D(amount))])
    return customer


@pytest.fixture
def world(sales_user, other_sales_user, ops_user):
    today = timezone.localdate()
    last_month = month_shift(month_start(today), -1)
    kept = factories.CustomerFactory(sales_owner=sales_user, name="留存地产")
    factories.issued_bill(user=ops_user, customer=kept, period=last_month, lines=["500.00"])
    gone = _paid_customer(
        owner=sales_user, name="已注销地产", amount="300.00", ops_user=ops_user, today=today
    )
    other = _paid_customer(
        owner=other_sales_user, name="别家已删地产", amount="700.00", ops_user=ops_user, today=today
    )
    return {"today": today, "kept": kept, "gone": gone, "other": other}


def _delete(admin_user, *customers):
    for customer in customers:
        customer_soft_delete(user=admin_user, customer=customer)
        assert Customer.objects.get(pk=customer.pk).is_deleted
    cache.clear()  # the cockpit keeps figures for a few minutes


def _cockpit_money(user, today) -> dict:
    figures = selectors.cockpit(user, today=today)
    return {
        "billed": figures["billed"],
        "received": figures["received"],
        "cash_received": figures["cash_received"],
        "overdue": figures["overdue"],
        "trend": [(r["period"], r["billed"], r["received"]) for r in figures["revenue_trend"]],
        "top": [(r["customer_id"], r["revenue"], r["received"]) for r in figures["top_customers"]],
    }


def _receivables(user, today) -> dict:
    return selectors.receivable_totals(user, filters=selectors.NO_FILTERS, today=today)


def _payments(user) -> dict:
    return selectors.payment_totals(user, filters=selectors.NO_FILTERS)


def test_totals_are_identical_before_and_after_the_deletion(
    world, admin_user, manager_user, sales_user
):
    # Given the figures of a manager and of the deleted customers' salesperson
    today = world["today"]
    before = {
        user.pk: (_receivables(user, today), _cockpit_money(user, today), _payments(user))
        for user in (manager_user, sales_user)
    }

    # When the two settled customers are soft-deleted
    _delete(admin_user, world["gone"], world["other"])

    # Then receivables, cockpit and payments are unchanged for both
    after = {
        user.pk: (_receivables(user, today), _cockpit_money(user, today), _payments(user))
        for user in (manager_user, sales_user)
    }
    assert after == before
    # and they are the hand-worked figures, so the deleted money is really in them
    manager_receivables, manager_cockpit, manager_payments = after[manager_user.pk]
    assert manager_receivables["billed"] == D("1500.00")
    assert manager_receivables["received"] == D("1000.00")
    assert manager_receivables["outstanding"] == D("500.00")
    assert manager_cockpit["billed"] == D("1500.00")
    assert manager_cockpit["received"] == D("1000.00")
    assert manager_cockpit["cash_received"] == D("1000.00")
    assert manager_payments["received"] == D("1000.00")
    sales_receivables, sales_cockpit, _ = after[sales_user.pk]
    assert sales_receivables["billed"] == D("800.00")
    assert sales_receivables["received"] == D("300.00")
    assert sales_cockpit["cash_received"] == D("300.00")


def test_the_statement_of_a_deleted_customer_is_unchanged_and_marked(
    client, world, admin_user, ops_user
):
    # Given the statement of last month for the customer about to be deleted
    client.force_login(ops_user)
    month = f"{month_shift(month_start(world['today']), -1):%Y-%m}"
    url = (
        reverse("billing:statement")
        + f"?customer={world['gone'].company_id}&start={month}&end={world['today']:%Y-%m}"
    )
    before = client.get(url).context["statement"]

    # When the customer is soft-deleted
    _delete(admin_user, world["gone"])

    # Then the statement still answers with the same figures and entries, marked 已删除
    response = client.get(url)
    after = response.context["statement"]
    assert after is not None
    assert (after.opening, after.billed, after.paid, after.closing) == (
        before.opening,
        before.billed,
        before.paid,
        before.closing,
    )
    assert (after.billed, after.paid, after.closing) == (D("300.00"), D("300.00"), D("0.00"))
    assert len(after.entries) == len(before.entries) == 2
    assert "已删除" in response.content.decode()


def test_receivables_and_cockpit_pages_mark_the_deleted_customer(client, world, admin_user):
    # Given the paid customer is deleted
    _delete(admin_user, world["gone"])
    client.force_login(admin_user)

    # When the receivables, cockpit and payments pages are opened
    pages = {
        "receivables": client.get(reverse("reports:receivables")).content.decode(),
        "cockpit": client.get(reverse("reports:cockpit") + "?refresh=1").content.decode(),
        "payments": client.get(reverse("reports:payments")).content.decode(),
    }

    # Then each lists the customer with the 已删除 badge, and without a link to its
    # (gone) detail page
    detail = reverse("customers:customer-detail", args=[world["gone"].pk])
    for name, html in pages.items():
        assert '已注销地产 <span class="badge text-bg-secondary customer-deleted-badge">已删除' in (
            html
        ), name
        assert f'href="{detail}"' not in html, name
    # while the live customer is still a plain link
    assert reverse("customers:customer-detail", args=[world["kept"].pk]) in pages["receivables"]


def test_a_salesperson_still_sees_no_other_owners_deleted_customer(
    client, world, admin_user, sales_user
):
    # Given another salesperson's paid customer is deleted
    _delete(admin_user, world["other"])
    client.force_login(sales_user)

    # When sales_user opens receivables, payments and the other customer's statement
    receivables = client.get(reverse("reports:receivables")).content.decode()
    payments = client.get(reverse("reports:payments")).content.decode()
    statement = client.get(reverse("billing:statement") + f"?customer={world['other'].company_id}")

    # Then the deleted customer of the other owner appears nowhere and its money is not theirs
    assert "别家已删地产" not in receivables and "别家已删地产" not in payments
    assert statement.context["statement"] is None
    assert "不在你的客户范围内" in statement.content.decode()
    assert _receivables(sales_user, world["today"])["billed"] == D("800.00")
    assert selectors.cockpit(sales_user, today=world["today"])["cash_received"] == D("300.00")


def test_deleted_customers_stay_out_of_lists_that_are_not_money(world, admin_user, manager_user):
    # Given a deleted customer
    _delete(admin_user, world["gone"])

    # When the customer counts and the settlement's "no bill yet" list are read
    counts = selectors.home_summary(manager_user)["customer_count"]
    settlement = selectors.settlement_status(
        manager_user, period=month_shift(month_start(world["today"]), -1)
    )

    # Then the deleted customer is not counted as a customer, but its bill is in the month
    assert counts == 2
    assert sum(row["bill_count"] for row in settlement["by_status"]) == 3
    assert world["gone"] not in settlement["missing"]
