"""`generate_bills` prints one summary line; bad input is a clear error."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command

from billing.models import Bill
from customers.models import Customer
from tests.factories import (
    CustomerFactory,
    DeviceSeriesFactory,
    PricePlanFactory,
    UsageRecordFactory,
)

pytestmark = pytest.mark.django_db


def test_generate_bills_prints_summary(admin_user, capsys):
    series = DeviceSeriesFactory(code="L")
    for shots in (10, 20):
        customer = CustomerFactory(billing_enabled=Customer.BillingEnabled.YES)
        PricePlanFactory(customer=customer, series=series, single_price=D("12.5"))
        UsageRecordFactory(customer=customer, series=series, shots=shots)
    CustomerFactory(billing_enabled=Customer.BillingEnabled.YES, company_id=777)

    call_command("generate_bills", "2025-10")

    # 777 has no usage and no fixed fee: no bill, and nothing worth flagging.
    assert capsys.readouterr().out.strip() == "bills=2 total=375.00 anomalies=0"
    call_command("generate_bills", "2025-10", "--customer", "777")
    assert capsys.readouterr().out.strip() == "bills=0 total=0.00 anomalies=0"
    assert Bill.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"), [(["2025/10"], "YYYY-MM"), (["2025-10", "--customer", "5"], "不存在")]
)
def test_generate_bills_bad_input(admin_user, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("generate_bills", *args)
