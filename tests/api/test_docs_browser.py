"""Browser journey: an integrator opens /api/docs/ and reads the API, with no CDN involved."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_integrator_reads_the_docs_served_from_our_own_static_files(login_page, ops_user):
    page = login_page(ops_user)
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{page.base_url}/api/docs/")
    page.wait_for_selector("text=批量上报用量")

    text = page.inner_text("body")
    for tag in ("认证", "客户", "价格方案", "用量", "账单", "收款", "任务"):
        assert tag in text
    assert requested, "the page made no requests"
    assert all(url.startswith(page.base_url) for url in requested), requested


def test_redoc_renders_under_the_content_security_policy(login_page, ops_user):
    # Given an ops user, recording every request the page makes; Redoc's bundle shows its
    # maker's logo from cdn.redoc.ly, which the policy refuses (no CDN), and nothing else
    page = login_page(ops_user)
    page.csp_expected.append("https://cdn.redoc.ly/")
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    # When the Redoc page is opened (parsing the schema takes a while on a busy machine)
    page.goto(f"{page.base_url}/api/redoc/")

    # Then Redoc draws the API from our own files (the browser_page fixture fails the
    # test on any other CSP violation)
    expect(page.locator("h2", has_text="批量上报用量").first).to_be_visible(timeout=60_000)
    elsewhere = [url for url in requested if not url.startswith(("blob:", page.base_url))]
    assert all(url.startswith("https://cdn.redoc.ly/") for url in elsewhere), elsewhere
