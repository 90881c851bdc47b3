"""Workbook prices (issue-4 staging rows) become per-shoot plans; nothing is guessed.

customers.ImportedPrice is added by the import issue; these tests use a stand-in with
its documented fields so the hand-off is pinned down on this branch too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

import pytest

from billing.models import Bill, PricePlan
from billing.plans.imports import plans_from_imported_prices
from tests.factories import (
    BillFactory,
    BillLineFactory,
    CustomerFactory,
    DeviceSeriesFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class StagedPrice:
    customer: object
    series_code: str
    method_raw: object
    single_raw: object
    multi_raw: object
    row_number: int
    consumed: bool = False
    pk: int | None = None


@pytest.fixture
def series_l():
    return DeviceSeriesFactory(code="L")


def staged(method, single, multi, row=2, customer=None, series="L"):
    return StagedPrice(customer or CustomerFactory(), series, method, single, multi, row)


def test_prices_become_plans(admin_user, series_l):
    rows = [
        staged("定价结算", 8, 0, row=2),
        staged("定价结算", "1m²1元", 50, row=3),
        staged("定价结算", 10, "14+（F-1）*10", row=4),
        staged("#N/A", "#N/A", "#N/A", row=5),
    ]
    warnings = plans_from_imported_prices(imported_prices=rows, valid_from=None, user=admin_user)
    assert warnings == []
    plans = {p.customer_id: p for p in PricePlan.objects.all()}
    assert len(plans) == 3
    first, area, incremental = (plans[r.customer.pk] for r in rows[:3])
    assert (first.single_price, first.multi_price, first.valid_from) == (D("8.00"), None, None)
    assert (area.per_area, area.area_price, area.multi_price) == (True, D("1.00"), D("50.00"))
    assert (incremental.multi_rule, incremental.multi_base, incremental.multi_step) == (
        "incremental",
        D("14.00"),
        D("10.00"),
    )
    assert first.source == "import" and incremental.raw_multi == "14+（F-1）*10"
    assert all(r.consumed for r in rows)


def test_unreadable_or_undecided_prices_are_warnings_naming_the_cell(admin_user, series_l):
    rows = [
        staged("定价结算", "八元", 0, row=7),
        staged("定价结算", 8, "14+F", row=8),
        staged("待确认", 8, 0, row=9),
        staged("包年套餐", 12.5, 0, row=10),
    ]
    warnings = plans_from_imported_prices(imported_prices=rows, valid_from=None, user=admin_user)
    assert warnings == [
        "第 7 行“单层定价”：单层定价“八元”无法识别为价格，未建立价格方案",
        "第 8 行“多层定价”：多层定价公式“14+F”无法识别（应如 14+(F-1)*10），未建立价格方案",
        "第 9 行“结算方式”：结算方式“待确认”：价格未导入，请确定结算方式后建立方案，未建立价格方案",
        "第 10 行“结算方式”：包年套餐的年费和限量不在工作簿中，未建立价格方案，请在客户用量页手工建立",
    ]
    assert not PricePlan.objects.exists()


def test_reimport_with_a_date_creates_a_new_version(admin_user, series_l):
    customer = CustomerFactory()
    plans_from_imported_prices(
        imported_prices=[staged("定价结算", 8, 0, customer=customer)], valid_from=None, user=None
    )
    same = plans_from_imported_prices(
        imported_prices=[staged("定价结算", 8, 0, customer=customer)],
        valid_from=date(2025, 11, 1),
        user=None,
    )
    assert same == [] and PricePlan.objects.count() == 1
    plans_from_imported_prices(
        imported_prices=[staged("定价结算", 10, 0, customer=customer)],
        valid_from=date(2025, 11, 1),
        user=None,
    )
    old, new = PricePlan.objects.order_by("version")
    assert (old.valid_to, new.valid_from, new.single_price) == (
        date(2025, 10, 31),
        date(2025, 11, 1),
        D("10.00"),
    )
    assert (new.source, new.raw_single) == (PricePlan.Source.IMPORT, "10")


def test_reimport_without_date_updates_unlocked_plan_but_not_a_locked_one(admin_user, series_l):
    customer = CustomerFactory()
    plans_from_imported_prices(
        imported_prices=[staged("定价结算", 8, 0, customer=customer)], valid_from=None, user=None
    )
    plans_from_imported_prices(
        imported_prices=[staged("定价结算", 9, 0, customer=customer)], valid_from=None, user=None
    )
    plan = PricePlan.objects.get()
    assert plan.single_price == D("9.00")
    bill = BillFactory(customer=customer)
    BillLineFactory(bill=bill, plan=plan)
    Bill.objects.filter(pk=bill.pk).update(status=Bill.Status.ISSUED)
    warnings = plans_from_imported_prices(
        imported_prices=[staged("定价结算", 12, 0, customer=customer, row=12)],
        valid_from=None,
        user=None,
    )
    assert warnings == [
        "第 12 行：L 系列现有方案已用于已出账账单，价格变化未导入；请指定生效日期（--valid-from）重新导入"
    ]
    plan.refresh_from_db()
    assert plan.single_price == D("9.00")


def test_unknown_series_is_a_warning(admin_user):
    warnings = plans_from_imported_prices(
        imported_prices=[staged("定价结算", 8, 0, row=3, series="Z")], valid_from=None, user=None
    )
    assert warnings == ["第 3 行：设备系列“Z”不存在"]


def _queries_for(rows: int, *, valid_from, prices) -> int:
    """Statements of one call over `rows` staged rows: half new customers, half with a plan.

    A bulk write the database splits into batches (SQLite's 999-parameter limit) counts
    once: consecutive statements with the same opening are one statement.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customers = CustomerFactory.create_batch(rows)
    plans_from_imported_prices(
        imported_prices=[staged("定价结算", 8, 0, customer=c) for c in customers[: rows // 2]],
        valid_from=None,
        user=None,
    )
    batch = [
        staged("定价结算", prices[i % len(prices)], 0, row=i + 2, customer=c)
        for i, c in enumerate(customers)
    ]
    with CaptureQueriesContext(connection) as ctx:
        plans_from_imported_prices(imported_prices=batch, valid_from=valid_from, user=None)
    shapes = [q["sql"][:60] for q in ctx.captured_queries]
    return len([s for n, s in enumerate(shapes) if n == 0 or s != shapes[n - 1]])


@pytest.mark.parametrize("valid_from", [None, date(2025, 11, 1)])
def test_query_count_does_not_grow_with_the_rows(admin_user, series_l, valid_from):
    # creates, in-place updates / new versions, unchanged rows and a warning in every batch
    prices = [8, 9, "八元"]
    small = _queries_for(10, valid_from=valid_from, prices=prices)
    large = _queries_for(200, valid_from=valid_from, prices=prices)
    assert large == small <= 12
    assert PricePlan.objects.filter(single_price=9).count() > 50  # the writes did happen


def test_bulk_import_is_one_audit_entry(admin_user, series_l):
    from auditlog.models import LogEntry

    rows = [staged("定价结算", 8, 0, row=n) for n in range(2, 12)]
    plans_from_imported_prices(imported_prices=rows, valid_from=None, user=admin_user)
    entry = LogEntry.objects.get(content_type__model="priceplan")
    assert entry.actor == admin_user and "新建 10 个" in entry.object_repr
    assert PricePlan.objects.filter(source="import").count() == 10


def test_a_user_who_may_not_keep_plans_gets_a_warning_per_row(sales_user, series_l):
    customer = CustomerFactory()
    plans_from_imported_prices(
        imported_prices=[staged("定价结算", 8, 0, customer=customer)], valid_from=None, user=None
    )
    rows = [staged("定价结算", 8, 0, customer=customer), staged("定价结算", 9, 0, row=3)]
    warnings = plans_from_imported_prices(imported_prices=rows, valid_from=None, user=sales_user)
    assert warnings == ["第 3 行：无权维护价格方案"]  # an unchanged price needs no right
    assert PricePlan.objects.count() == 1


def test_new_plans_made_by_copy_equal_constructed_ones(series_l):
    """The bulk import copies one plan per (series, creator) instead of constructing each:
    the copy has the same attributes and state, and lists of its own."""
    from django.db.models.signals import post_init

    from billing.plans.imports import _PlanMaker
    from tests.factories import UserFactory

    user = UserFactory()
    make = _PlanMaker()
    for creator in (user, None):
        built = PricePlan(customer_id=5, series=series_l, created_by=creator, version=1)
        first, second = make(5, series_l, creator), make(6, series_l, creator)
        expected, got = dict(built.__dict__), dict(first.__dict__)
        assert got.pop("_state").__dict__ == expected.pop("_state").__dict__
        assert got == expected
        assert second.customer_id == 6 and second.series is series_l
        assert first.bands_shared is not second.bands_shared
        assert first._state.fields_cache is not second._state.fields_cache

    def receiver(**kwargs):
        pass

    post_init.connect(receiver, sender=PricePlan)
    try:
        assert _PlanMaker()._signals
    finally:
        post_init.disconnect(receiver, sender=PricePlan)
