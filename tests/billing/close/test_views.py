"""Close page: who may see and act, confirming no usage in a batch, reopening from the page."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from billing.models import NoUsageConfirmation, Period
from customers.models import Customer
from tests.factories import CustomerFactory, PeriodFactory

pytestmark = pytest.mark.django_db
PAGE = reverse("billing:period-close") + "?period=2025-10"


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin_user", 200), ("ops_user", 200), ("manager_user", 403), ("sales_user", 403)],
)
def test_close_page_is_for_ops_and_admin(client, request, role, status):
    client.force_login(request.getfixturevalue(role))
    assert client.get(PAGE).status_code == status


def test_each_rule_is_explained_and_each_gate_links_to_its_rows(client, ops_user):
    CustomerFactory(billing_enabled=Customer.BillingEnabled.YES, name="无用量客户")
    client.force_login(ops_user)
    text = client.get(PAGE).text
    assert "中位数" in text and "没有生效的价格方案" in text
    assert 'href="/billing/close/?period=2025-10#no-usage">1 项' in text
    assert "无用量客户" in text


def test_batch_no_usage_confirmation_clears_the_gate(client, ops_user):
    quiet = [CustomerFactory(billing_enabled=Customer.BillingEnabled.YES) for _ in range(3)]
    client.force_login(ops_user)
    client.post(
        reverse("billing:period-no-usage"),
        {"period": "2025-10", "customers": [c.pk for c in quiet], "reason": "停工"},
    )
    assert NoUsageConfirmation.objects.filter(month=date(2025, 10, 1)).count() == 3
    assert 'data-gate="usage" data-green="1"' in client.get(PAGE).text


def test_admin_reopens_from_the_page_ops_cannot(client, ops_user, admin_user):
    PeriodFactory(month=date(2025, 10, 1))
    client.force_login(ops_user)
    data = {"period": "2025-10", "reason": "补录"}
    assert client.post(reverse("billing:period-reopen"), data).status_code == 403
    client.force_login(admin_user)
    client.post(reverse("billing:period-reopen"), data)
    assert not Period.objects.get().is_closed
