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


# --- API (issue 8) -------------------------------------------------------------
# Billing rows the API tests read; the billing issues may add richer factories.

import datetime as _dt  # noqa: E402
from decimal import Decimal as _Decimal  # noqa: E402

from billing.models import Bill, Payment, PaymentAllocation, PricePlan, UsageRecord  # noqa: E402
from customers.models import Contact  # noqa: E402


class ApiContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    phone = "13800138000"
    is_primary = True


class ApiPricePlanFactory(DjangoModelFactory):
    class Meta:
        model = PricePlan

    customer = factory.SubFactory(CustomerFactory)
    series = factory.SubFactory(DeviceSeriesFactory)
    kind = PricePlan.Kind.PER_SHOOT
    single_price = _Decimal("12.50")
    valid_from = _dt.date(2025, 1, 1)


class ApiUsageRecordFactory(DjangoModelFactory):
    class Meta:
        model = UsageRecord

    customer = factory.SubFactory(CustomerFactory)
    series = factory.SubFactory(DeviceSeriesFactory)
    shot_date = _dt.date(2025, 10, 16)
    source_ref = factory.Sequence(lambda n: f"SO-F{n}")


class ApiBillFactory(DjangoModelFactory):
    class Meta:
        model = Bill

    customer = factory.SubFactory(CustomerFactory)
    period = _dt.date(2025, 10, 1)
    number = factory.LazyAttribute(lambda o: f"BILL-{o.period:%Y%m}-{o.customer.company_id}")
    status = Bill.Status.ISSUED
    total = _Decimal("1000.00")
    due_date = _dt.date(2025, 12, 1)


class ApiPaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    customer = factory.SubFactory(CustomerFactory)
    amount = _Decimal("600.00")
    received_on = _dt.date(2025, 11, 20)
    bank_ref = factory.Sequence(lambda n: f"CMB{n:08d}")


class ApiAllocationFactory(DjangoModelFactory):
    class Meta:
        model = PaymentAllocation

    payment = factory.SubFactory(ApiPaymentFactory)
    bill = factory.SubFactory(ApiBillFactory, customer=factory.SelfAttribute("..payment.customer"))
    amount = _Decimal("100.00")
