"""factory-boy factories for every model the tests build."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import Job, Team, User
from accounts.roles import Role
from billing.models import DeviceSeries
from customers.models import Customer

PASSWORD = "correct-horse-9"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.SALES
    is_staff = factory.LazyAttribute(lambda o: o.role == Role.ADMIN)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"销售{n}组")


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    company_id = factory.Sequence(lambda n: 100000 + n)
    name = factory.Sequence(lambda n: f"测试房产经纪有限公司{n}")


class DeviceSeriesFactory(DjangoModelFactory):
    class Meta:
        model = DeviceSeries
        django_get_or_create = ("code",)

    code = "L"
    name = factory.LazyAttribute(lambda o: f"{o.code} 系列")


class JobFactory(DjangoModelFactory):
    class Meta:
        model = Job

    kind = "test"
    title = "测试任务"


# --- billing: plans, usage, bills (issue 5) -------------------------------------------

from decimal import Decimal  # noqa: E402

from billing.models import Bill, BillLine, PricePlan, UsageRecord  # noqa: E402


class PricePlanFactory(DjangoModelFactory):
    class Meta:
        model = PricePlan

    customer = factory.SubFactory(CustomerFactory)
    series = factory.SubFactory(DeviceSeriesFactory)
    kind = PricePlan.Kind.PER_SHOOT
    version = factory.Sequence(lambda n: n + 1)
    single_price = Decimal("8.00")


class UsageRecordFactory(DjangoModelFactory):
    class Meta:
        model = UsageRecord

    customer = factory.SubFactory(CustomerFactory)
    series = factory.SubFactory(DeviceSeriesFactory)
    shot_date = factory.LazyFunction(lambda: __import__("datetime").date(2025, 10, 16))
    shots = 1
    floors = 1


class BillFactory(DjangoModelFactory):
    class Meta:
        model = Bill

    customer = factory.SubFactory(CustomerFactory)
    period = factory.LazyFunction(lambda: __import__("datetime").date(2025, 10, 1))
    number = factory.LazyAttribute(lambda o: f"BILL-{o.period:%Y%m}-{o.customer.company_id}")
    total = Decimal("100.00")


class BillLineFactory(DjangoModelFactory):
    class Meta:
        model = BillLine

    bill = factory.SubFactory(BillFactory)
    line_type = BillLine.LineType.SINGLE
    quantity = Decimal("1")
    unit_price = Decimal("100.00")
    amount = Decimal("100.00")
    explanation = "单层 1 次：1×¥100.00 = ¥100.00"
