"""Browser journeys of the archive depth: sections added in place, multi-select find, and a
salesperson's phone (390 px): customer list, customer page, inbox and collections desk."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from customers.models import AdAccount, Project
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    DictionaryItemFactory,
    ProjectFactory,
    UserFactory,
    issued_bill,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_adds_project_and_ad_account_then_finds_the_customer_by_multi_select(login_page):
    ops = UserFactory(role=Role.OPS, username="ops_archive", full_name="钱多")
    east = DictionaryItemFactory(value="华东")
    south = DictionaryItemFactory(value="华南")
    DictionaryItemFactory(value="西北")
    target = CustomerFactory(name="杭州目标房产", level="B")
    target.regions.add(east)
    other = CustomerFactory(name="深圳另一家", level="A")
    other.regions.add(south)
    CustomerFactory(name="兰州无关客户", level="A")
    page = login_page(ops)
    page.goto(f"{page.base_url}/customers/{target.pk}/")

    # A project, in place.
    page.click("#add-projects")
    page.fill("#form-projects input[name=name]", "2026 年度 VR 拍摄")
    page.select_option("#form-projects select[name=kind]", "shooting")
    page.fill("#form-projects input[name=start_on]", "2026-01-05")
    page.click("#form-projects button[type=submit]")
    page.wait_for_selector("#section-projects td:has-text('2026 年度 VR 拍摄')")

    # An ad account, in place; its monthly spend shows as money.
    page.click("#add-adaccounts")
    page.select_option("#form-adaccounts select[name=platform]", "google")
    page.fill("#form-adaccounts input[name=account_id]", "123-456-7890")
    page.fill("#form-adaccounts input[name=monthly_spend]", "8800.5")
    page.click("#form-adaccounts button[type=submit]")
    page.wait_for_selector("#section-adaccounts td:has-text('¥8,800.50')")

    # Find the customer again: regions 华东 + 华南 (multi-select), level B only.
    page.goto(f"{page.base_url}/customers/")
    page.click("button[data-bs-target='#more-filters']")
    page.select_option("#id_region", [str(east.pk), str(south.pk)])
    expect(page.locator("#filtered-count")).to_contain_text("共 2 个客户")
    page.select_option("#id_level", ["B", "C"])
    expect(page.locator("#filtered-count")).to_contain_text("共 1 个客户")
    assert page.locator("a.customer-link").inner_text() == "杭州目标房产"
    assert f"region={east.pk}" in page.url and f"region={south.pk}" in page.url

    project = Project.objects.get(customer=target)
    assert project.owner is None and project.start_on.isoformat() == "2026-01-05"
    assert str(AdAccount.objects.get(customer=target).monthly_spend) == "8800.50"


def _no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_sales_checks_list_customer_inbox_and_desk_on_a_390px_phone(login_page, ops_user):
    # Given a salesperson's customers, one with a contact, a project and a bill 8 days overdue,
    # and last night's scheduler run (which puts the overdue bill in the inbox)
    sales = UserFactory(role=Role.SALES, username="sales_phone", full_name="王珂")
    customer = CustomerFactory(
        name="手机上查看的房产经纪有限公司名称很长很长", sales_owner=sales, level="A"
    )
    ContactFactory(customer=customer, name="陈经理", phone="13800138001", is_primary=True)
    ProjectFactory(customer=customer, name="2026 年度 VR 拍摄")
    for i in range(3):
        CustomerFactory(name=f"其他客户{i}", sales_owner=sales)
    today = timezone.localdate()
    issued_bill(
        user=ops_user, customer=customer, lines=["480.00"], due_date=today - dt.timedelta(days=8)
    )
    call_command("run_schedule", "--today", today.isoformat(), stdout=StringIO())

    # When they check on a phone
    page = login_page(sales)
    page.set_viewport_size({"width": 390, "height": 844})

    # The list: no sideways page scroll, names a thumb can hit
    page.goto(f"{page.base_url}/customers/")
    page.wait_for_selector("#customer-table")
    assert _no_sideways_scroll(page)
    link = page.locator("a.customer-link", has_text="手机上查看").bounding_box()
    assert link["height"] >= 40 and link["x"] >= 0
    # the table scrolls sideways inside its box; the name column stays put
    scrolled = page.locator("#customer-table").evaluate(
        "t => { const box = t.closest('.table-responsive'); box.scrollLeft = 300;"
        " return box.scrollLeft; }"
    )
    assert scrolled > 0
    box = page.locator(".customer-table-scroll").bounding_box()
    name_cell = page.locator("#customer-table td.col-name", has_text="手机上查看").bounding_box()
    assert abs(name_cell["x"] - box["x"]) < 1  # pinned to the box's left edge, in sight
    expect(page.locator("a.customer-link", has_text="手机上查看")).to_be_in_viewport()

    # The customer's page: the key figures first; section rows are full-width cards
    page.locator("a.customer-link", has_text="手机上查看").click()
    page.wait_for_selector("#key-figures")
    assert _no_sideways_scroll(page)
    figures = page.locator("#key-figures").bounding_box()
    basic = page.locator("#section-basic").bounding_box()
    assert figures["y"] < basic["y"]  # the key figures come first
    assert "等级" in page.inner_text("#key-figures") and "A" in page.inner_text("#key-figures")
    assert figures["x"] + figures["width"] <= 390
    expect(page.locator("#section-contacts thead")).to_be_hidden()
    phone = page.locator("#section-contacts td[data-label='电话']")
    expect(phone).to_contain_text("13800138001")
    assert phone.bounding_box()["width"] > 300  # a whole line, not a squeezed column
    expect(page.locator("#section-projects td[data-label='项目名称']")).to_contain_text(
        "2026 年度 VR 拍摄"
    )

    # The inbox: the bell stays in sight with the menu folded, and the message reads in full
    expect(page.locator("#nav-bell-phone-count")).to_have_text("1")
    page.click("#nav-bell-phone")
    item = page.locator("#inbox .notification.unread")
    expect(item).to_contain_text("已逾期 8 天")
    assert _no_sideways_scroll(page)
    assert item.locator(".n-text").bounding_box()["width"] > 300

    # The collections desk, through the folded menu: the overdue customer as a card
    page.click("button.navbar-toggler")
    page.click("#nav-collections")
    row = page.locator("#desk-table tr.desk-row", has_text="手机上查看")
    expect(row).to_contain_text("¥480.00")
    assert _no_sideways_scroll(page)
    follow_up = row.locator("a.desk-follow-up").bounding_box()
    assert follow_up["height"] >= 40 and follow_up["x"] + follow_up["width"] <= 390

    # Receivables: its wide summary tables scroll inside their boxes, not the page
    page.goto(f"{page.base_url}/reports/receivables/")
    expect(page.locator("#receivables-by-month")).to_contain_text("480.00")
    assert _no_sideways_scroll(page)
