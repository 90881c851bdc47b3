"""Browser journey: an integrator opens /api/docs/ and reads the API, with no CDN involved."""

import pytest

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
