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


# --- Customer archive (issue 3) ---


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = "customers.Contact"

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    is_primary = False


class TagFactory(DjangoModelFactory):
    class Meta:
        model = "customers.Tag"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"标签{n}")


class QualityIssueFactory(DjangoModelFactory):
    class Meta:
        model = "customers.QualityIssue"

    customer = factory.SubFactory(CustomerFactory)
    occurred_on = factory.LazyFunction(lambda: __import__("datetime").date(2025, 10, 1))
    category = "服务"
    description = "拍摄延迟"
