"""ReceivableTable on the receivables page: sorted and paged on the server."""

import re

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_receivables_sort_by_outstanding_descending(client, world, manager_user):
    client.force_login(manager_user)

    def bill_links(sort: str) -> list[str]:
        html = client.get(reverse("reports:receivables"), {"sort": sort}).content.decode()
        return re.findall(r'href="(/billing/bills/\d+/)"', html)

    # when sorted by outstanding both ways
    ascending, descending = bill_links("outstanding"), bill_links("-outstanding")
    # then the same rows come back and the largest balance leads the descending order
    assert sorted(ascending) == sorted(descending) and len(ascending) == 6
    assert ascending[0] != descending[0]


@pytest.mark.django_db
def test_receivables_page_links_customer_and_bill(client, world, manager_user):
    client.force_login(manager_user)
    html = client.get(reverse("reports:receivables")).content.decode()
    # then each row links its customer and its bill
    assert f'href="/customers/{world.a.pk}/"' in html
    assert 'href="/billing/bills/' in html
