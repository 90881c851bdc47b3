"""The interface speaks one language: a browser asking for English still gets Chinese."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing.bills.views import BILL_PAGE
from tests.factories import ReportBillFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "fr", "zh-CN,zh;q=0.9"])
def test_library_strings_are_chinese_whatever_the_browser_asks(client, ops_user, accept):
    # Given more bills in a month than one page holds
    ReportBillFactory.create_batch(BILL_PAGE + 1)

    # When ops open the month's bills from a browser asking for some language
    client.force_login(ops_user)
    response = client.get(
        reverse("billing:bill-list"), {"period": "2025-10"}, HTTP_ACCEPT_LANGUAGE=accept
    )

    # Then django-tables2's pager speaks Chinese like the rest of the page
    html = response.content.decode()
    assert "下一页" in html
    assert not re.search(r">\s*(next|previous)\b", html, re.IGNORECASE)
