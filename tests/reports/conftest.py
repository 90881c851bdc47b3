"""The hand-computed world every report test checks against.

Today is 2026-01-20. Figures below are worked out by hand, not by the code under test.

Customers (all billing enabled): A, B owned by sales_user; C by other_sales_user;
D no owner, no bills; E disabled.

Live issued bills (应收):
  A 2025-10  1000.00  due 2025-11-30  paid 400 → balance 600, 51 days past due (31–60)
  A 2025-11   500.00  due 2025-12-31  unpaid   → balance 500, 20 days (0–30)
  A 2025-12   300.00  due 2026-01-31  paid 300 → paid, not overdue
  B 2025-09   800.00  due 2025-10-15  unpaid   → balance 800, 97 days (90+)
  B 2025-10   700.00  due 2026-02-28  paid 200 → balance 500, not yet due
  C 2025-10  2000.00  due 2025-11-20  unpaid   → balance 2000, 61 days (61–90)
Not counted: B 2025-10 reversed (999.00) and its credit note (−999.00); C 2025-12 draft (50.00).

Totals: billed 5300, received 900, outstanding 4400, overdue 3900 in 4 bills;
ageing 0–30: 500, 31–60: 600, 61–90: 2000, 90+: 800.
sales_user (A+B): billed 3300, received 900, outstanding 2400, overdue 1900.
other_sales_user (C): billed 2000, received 0, outstanding 2000, overdue 2000.

Payments: A 400 on 2025-12-05 (→ A 2025-10), A 300 on 2026-01-10 (→ A 2025-12),
B 500 on 2026-01-15 (200 → B 2025-10 active, 100 → B 2025-09 undone),
C 1000 on 2025-11-25 (1000 → C 2025-10 undone).

Usage (shots): A 10/10/10 in Sep–Nov, 4 in Dec (3 floors each) → fell below half;
B 10/10/10, then 5 in Dec → exactly half, no warning; C 3 on 2025-11-10 only →
fell and quiet; D 2 on 2025-08-15 → quiet only; E (disabled) 6 in Sep → excluded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Bill
from customers.models import Customer
from tests.factories import (
    AllocationFactory,
    CustomerFactory,
    DeviceSeriesFactory,
    ReportBillFactory,
    ReportPaymentFactory,
    UsageRecordFactory,
)

TODAY = dt.date(2026, 1, 20)
D = Decimal


@dataclass
class World:
    a: Customer
    b: Customer
    c: Customer
    d: Customer
    e: Customer
    bills: dict[str, Bill]


def _bill(customer, period, total, due, paid="0.00", status=Bill.Status.ISSUED, **kw):
    return ReportBillFactory(
        customer=customer,
        period=period,
        total=D(total),
        amount_paid=D(paid),
        due_date=due,
        status=status,
        **kw,
    )


@pytest.fixture
def world(db, sales_user, other_sales_user) -> World:
    series_l = DeviceSeriesFactory(code="L")
    series_x = DeviceSeriesFactory(code="X")
    yes = Customer.BillingEnabled.YES
    a = CustomerFactory(
        company_id=1001,
        name="甲房产",
        sales_owner=sales_user,
        level="A",
        consumption_level="C3",
        billing_enabled=yes,
    )
    b = CustomerFactory(
        company_id=1002,
        name="乙经纪",
        sales_owner=sales_user,
        level="B",
        consumption_level="C3",
        billing_enabled=yes,
    )
    c = CustomerFactory(
        company_id=1003,
        name="丙平台",
        sales_owner=other_sales_user,
        level="A",
        consumption_level="C5",
        billing_enabled=yes,
    )
    d = CustomerFactory(company_id=1004, name="丁租房", billing_enabled=yes)
    e = CustomerFactory(company_id=1005, name="戊停用", billing_enabled=yes, disabled=True)

    paid = Bill.Status.PARTIALLY_PAID
    bills = {
        "a10": _bill(
            a,
            dt.date(2025, 10, 1),
            "1000.00",
            dt.date(2025, 11, 30),
            "400.00",
            paid,
            series_lines=[(series_l, "1000.00")],
        ),
        "a11": _bill(a, dt.date(2025, 11, 1), "500.00", dt.date(2025, 12, 31)),
        "a12": _bill(
            a, dt.date(2025, 12, 1), "300.00", dt.date(2026, 1, 31), "300.00", Bill.Status.PAID
        ),
        "b09": _bill(b, dt.date(2025, 9, 1), "800.00", dt.date(2025, 10, 15)),
        "b10_reversed": _bill(
            b, dt.date(2025, 10, 1), "999.00", dt.date(2025, 11, 30), status=Bill.Status.REVERSED
        ),
        "b10": _bill(
            b,
            dt.date(2025, 10, 1),
            "700.00",
            dt.date(2026, 2, 28),
            "200.00",
            paid,
            series_lines=[(series_l, "700.00")],
        ),
        "c10": _bill(
            c,
            dt.date(2025, 10, 1),
            "2000.00",
            dt.date(2025, 11, 20),
            series_lines=[(series_x, "2000.00")],
        ),
        "c12_draft": _bill(
            c, dt.date(2025, 12, 1), "50.00", dt.date(2026, 1, 31), status=Bill.Status.DRAFT
        ),
    }
    bills["b10_credit"] = _bill(
        b,
        dt.date(2025, 10, 1),
        "-999.00",
        dt.date(2025, 11, 30),
        kind=Bill.Kind.CREDIT_NOTE,
        reverses=bills["b10_reversed"],
        number="CN-202510-1002-1",
    )

    p1 = ReportPaymentFactory(
        customer=a, amount=D("400"), allocated=D("400"), received_on=dt.date(2025, 12, 5)
    )
    AllocationFactory(payment=p1, bill=bills["a10"], amount=D("400"))
    p2 = ReportPaymentFactory(
        customer=a, amount=D("300"), allocated=D("300"), received_on=dt.date(2026, 1, 10)
    )
    AllocationFactory(payment=p2, bill=bills["a12"], amount=D("300"))
    p3 = ReportPaymentFactory(
        customer=b, amount=D("500"), allocated=D("200"), received_on=dt.date(2026, 1, 15)
    )
    AllocationFactory(payment=p3, bill=bills["b10"], amount=D("200"))
    AllocationFactory(payment=p3, bill=bills["b09"], amount=D("100"), undone_at=timezone.now())
    p4 = ReportPaymentFactory(
        customer=c, amount=D("1000"), allocated=D("0"), received_on=dt.date(2025, 11, 25)
    )
    AllocationFactory(payment=p4, bill=bills["c10"], amount=D("1000"), undone_at=timezone.now())

    for month in (9, 10, 11):
        UsageRecordFactory(customer=a, series=series_l, shot_date=dt.date(2025, month, 5), shots=10)
        UsageRecordFactory(customer=b, series=series_l, shot_date=dt.date(2025, month, 6), shots=10)
    UsageRecordFactory(
        customer=a, series=series_l, shot_date=dt.date(2025, 12, 3), shots=4, floors=3
    )
    UsageRecordFactory(customer=b, series=series_l, shot_date=dt.date(2025, 12, 20), shots=5)
    UsageRecordFactory(customer=c, series=series_x, shot_date=dt.date(2025, 11, 10), shots=3)
    UsageRecordFactory(customer=d, series=series_l, shot_date=dt.date(2025, 8, 15), shots=2)
    UsageRecordFactory(customer=e, series=series_l, shot_date=dt.date(2025, 9, 15), shots=6)
    return World(a=a, b=b, c=c, d=d, e=e, bills=bills)


@pytest.fixture(autouse=True)
def _fresh_cockpit_cache():
    """The cockpit is cached per scope and day; each test starts from an empty cache.

    Under xdist with Redis each worker has its own key prefix (opcms/settings/test.py),
    so this clear() empties only this worker's keys.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
