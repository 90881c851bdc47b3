"""Browser journey: ops searches, filters, opens a customer, adds a contact and a Q&A entry."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from customers.models import Customer, IssueCategory
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_searches_filters_opens_and_edits_sections(login_page):
    ops = UserFactory(role=Role.OPS, username="ops_journey", full_name="钱多")
    CustomerFactory(name="北京链家", level="A")
    CustomerFactory(name="北京链家二店", level="B")
    CustomerFactory(name="上海中原", level="A")
    # The Q&A category is chosen from the admin's list (seeded by migration, or flushed away
    # by an earlier transactional test): make it present either way.
    IssueCategory.objects.get_or_create(name="服务")
    page = login_page(ops)
    page.goto(f"{page.base_url}/customers/")

    # Search: debounced, results swapped in place, matches highlighted.
    page.fill("#id_q", "链家")
    expect(page.locator("#filtered-count")).to_contain_text("共 2 个客户")
    assert page.locator("#customer-table mark").first.inner_text() == "链家"

    # Filter: level A narrows to one.
    page.click("button[data-bs-target='#more-filters']")
    page.select_option("#id_level", "A")
    expect(page.locator("#filtered-count")).to_contain_text("共 1 个客户")
    assert "level=A" in page.url

    # Open the customer.
    page.click("a.customer-link")
    page.wait_for_selector("#customer-header")
    assert "北京链家" in page.inner_text("h1")

    # Add a contact in place.
    page.click("#add-contacts")
    page.fill("#form-contacts input[name=name]", "李雷")
    page.fill("#form-contacts input[name=phone]", "13800138000")
    page.click("#form-contacts button[type=submit]")
    page.wait_for_selector("#section-contacts td:has-text('李雷')")

    # Add a Q&A / corrective-measure entry in place.
    page.click("#add-issues")
    page.fill("#form-issues input[name=occurred_on]", "2025-10-01")
    page.select_option("#form-issues select[name=category]", "服务")
    page.fill("#form-issues textarea[name=description]", "拍摄交付延迟")
    page.fill("#form-issues textarea[name=corrective_action]", "增加周末排班")
    page.click("#form-issues button[type=submit]")
    page.wait_for_selector("#section-issues td:has-text('拍摄交付延迟')")

    customer = Customer.objects.get(name="北京链家")
    assert customer.contacts.get().is_primary
    assert customer.quality_issues.get().corrective_action == "增加周末排班"
