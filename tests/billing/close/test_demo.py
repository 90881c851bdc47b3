"""On the demo month (seed_demo) anomalies are worth reading: at most 10 % of bills carry one."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import Bill
from opcms.months import month_shift

pytestmark = pytest.mark.django_db


def test_at_most_a_tenth_of_the_demo_months_bills_carry_an_anomaly():
    # Given the demo, whose latest month is left in draft for the month-end run
    call_command("seed_demo", stdout=StringIO())
    month = month_shift(timezone.localdate().replace(day=1), -1)

    # When the month is generated again as a clerk would
    out = StringIO()
    call_command("generate_bills", f"{month:%Y-%m}", stdout=out)

    # Then few bills carry an anomaly, and the summary line counts exactly those bills
    bills = list(Bill.objects.filter(period=month, kind=Bill.Kind.BILL))
    flagged = [b for b in bills if b.anomalies]
    assert len(bills) >= 50
    assert len(flagged) <= len(bills) / 10, [a for b in flagged for a in b.anomalies][:5]
    # a ¥0.00 bill left is a plan priced at ¥0 (free use), and its lines say so
    assert all(b.lines.exists() for b in bills if b.total == 0 and not b.anomalies)
    assert out.getvalue().strip().endswith(f"anomalies={len(flagged)}")
