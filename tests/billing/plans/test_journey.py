"""Browser journey: ops creates a plan, the form prices a live example as they type."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from billing.models import PricePlan
from tests.factories import CustomerFactory, DeviceSeriesFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_plan_form_explains_itself(login_page, ops_user):
    DeviceSeriesFactory(code="L")
    customer = CustomerFactory(company_id=88)

    page = login_page(ops_user)
    page.goto(f"{page.base_url}/billing/customers/{customer.pk}/plans/new/")
    assert page.is_hidden("[data-field=annual_fee]")
    page.fill("#id_single_price", "8")
    page.select_option("#id_multi_rule", "incremental")
    page.fill("#id_multi_base", "14")
    page.fill("#id_multi_step", "10")
    page.wait_for_selector("#plan-example >> text=本月费用 ¥148.00")
    assert "多层 2 次，共 6 层：2×¥14.00 + 4×¥10.00 = ¥68.00" in page.inner_text("#plan-example")

    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("text=价格方案第 1 版已保存")
    plan = PricePlan.objects.get(customer=customer)
    assert (plan.multi_rule, plan.multi_step) == ("incremental", D("10.00"))
