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


# --- reports (issue 7): bills, payments, allocations and usage as plain rows ---
# These set amount_paid/allocated explicitly; tests keep them equal to the active
# allocations, as the reconciliation services do.

import datetime as _dt  # noqa: E402
from decimal import Decimal as _Decimal  # noqa: E402

from billing.models import Bill, BillLine, Payment, PaymentAllocation, UsageRecord  # noqa: E402


class BillFactory(DjangoModelFactory):
    class Meta:
        model = Bill

    customer = factory.SubFactory(CustomerFactory)
    period = _dt.date(2025, 10, 1)
    number = factory.LazyAttributeSequence(
        lambda o, n: f"BILL-{o.period:%Y%m}-{o.customer.company_id}-{n}"
    )
    kind = Bill.Kind.BILL
    status = Bill.Status.ISSUED
    total = _Decimal("100.00")
    amount_paid = _Decimal("0.00")
    due_date = factory.LazyAttribute(lambda o: o.period + _dt.timedelta(days=60))


class BillLineFactory(DjangoModelFactory):
    class Meta:
        model = BillLine

    bill = factory.SubFactory(BillFactory)
    series = factory.SubFactory(DeviceSeriesFactory)
    line_type = BillLine.LineType.SINGLE
    quantity = _Decimal("10")
    unit_price = _Decimal("10.00")
    amount = _Decimal("100.00")
    explanation = "10 次单层拍摄 × ¥10.00 = ¥100.00"


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    customer = factory.SubFactory(CustomerFactory)
    amount = _Decimal("100.00")
    allocated = _Decimal("0.00")
    received_on = _dt.date(2025, 11, 15)
    bank_ref = factory.Sequence(lambda n: f"BANK{n:06d}")


class AllocationFactory(DjangoModelFactory):
    class Meta:
        model = PaymentAllocation

    payment = factory.SubFactory(PaymentFactory)
    bill = factory.SubFactory(BillFactory)
    amount = _Decimal("100.00")


class UsageRecordFactory(DjangoModelFactory):
    class Meta:
        model = UsageRecord

    customer = factory.SubFactory(CustomerFactory)
    series = factory.SubFactory(DeviceSeriesFactory)
    shot_date = _dt.date(2025, 10, 16)
    shots = 1
    floors = 1
    source_ref = factory.Sequence(lambda n: f"SO{n:07d}")
