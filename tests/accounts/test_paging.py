"""?per_page= on every paged list stays within 1..MAX_PER_PAGE (accounts.tables.RequestConfig)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import tables
from tests import factories

PAGED_LISTS = [
    "customers:customer-list",
    "billing:bill-list",
    "billing:payment-list",
    "billing:collections-desk",
    "reports:receivables",
    "accounts:audit-list",
    "accounts:job-list",
]


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGED_LISTS)
@pytest.mark.parametrize("asked", ["0", "-5", "abc", "100000"])
def test_any_per_page_in_the_url_answers_a_page(client, admin_user, route, asked):
    client.force_login(admin_user)
    response = client.get(reverse(route), {"per_page": asked})
    assert response.status_code == 200
    if "table" in response.context:
        per_page = response.context["table"].paginator.per_page
        assert per_page in range(1, tables.MAX_PER_PAGE + 1)


@pytest.mark.django_db
def test_a_page_never_holds_more_than_the_most_rows(client, admin_user, monkeypatch):
    monkeypatch.setattr(tables, "MAX_PER_PAGE", 2)
    factories.CustomerFactory.create_batch(3)
    client.force_login(admin_user)
    url = reverse("customers:customer-list")

    assert len(client.get(url, {"per_page": "100000"}).context["table"].page) == 2
    assert len(client.get(url, {"per_page": "0"}).context["table"].page) == 1
    one_a_page = client.get(url, {"per_page": "1", "page": "3"}).context["table"].page
    assert one_a_page.number == 3 and len(one_a_page) == 1
    # a page past the end shows the last one, a page that is not a number the first
    assert client.get(url, {"per_page": "2", "page": "9"}).context["table"].page.number == 2
    assert client.get(url, {"per_page": "2", "page": "x"}).context["table"].page.number == 1
