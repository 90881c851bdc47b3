"""factory-boy factories for every model the tests build."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import Job, Team, User
from accounts.roles import Role
from customers.models import Customer, DeviceSeries
from customers.pinyin import name_sort_key

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
    # Factories write rows directly, so they set the key as every service does.
    name_pinyin = factory.LazyAttribute(lambda o: name_sort_key(o.name))


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


# --- billing: bills and payments (issue 6) -----------------------------------
import datetime as _dt  # noqa: E402
from decimal import Decimal as _Decimal  # noqa: E402

from billing.models import Bill, BillLine, Payment  # noqa: E402


class BillFactory(DjangoModelFactory):
    """A draft bill; pass `lines=[Decimal(...), ...]` to add lines and set the total from them."""

    class Meta:
        model = Bill
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    period = _dt.date(2025, 10, 1)
    number = factory.LazyAttribute(lambda o: f"BILL-{o.period:%Y%m}-{o.customer.company_id}")
    status = Bill.Status.DRAFT
    total = _Decimal("0.00")

    @factory.post_generation
    def lines(obj, create, extracted, **kwargs):  # noqa: N805
        if not create or not extracted:
            return
        for i, amount in enumerate(extracted, start=1):
            BillLineFactory(bill=obj, position=i, amount=_Decimal(amount))
        obj.total = sum((_Decimal(a) for a in extracted), _Decimal("0.00"))
        obj.save(update_fields=["total"])


class BillLineFactory(DjangoModelFactory):
    class Meta:
        model = BillLine

    bill = factory.SubFactory(BillFactory)
    position = 1
    line_type = BillLine.LineType.ALL
    quantity = _Decimal("1")
    unit_price = factory.LazyAttribute(lambda o: o.amount)
    amount = _Decimal("100.00")
    explanation = factory.LazyAttribute(lambda o: f"测试明细 ¥{o.amount}")


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    customer = factory.SubFactory(CustomerFactory)
    amount = _Decimal("100.00")
    received_on = _dt.date(2025, 11, 5)
    method = Payment.Method.BANK
    bank_ref = factory.Sequence(lambda n: f"TRX{n:08d}")
    payer = factory.LazyAttribute(lambda o: o.customer.name)


def issued_bill(
    *, user, customer=None, period=_dt.date(2025, 10, 1), lines=("100.00",), due_date=None
):
    """A bill issued through the lifecycle service (the only way a bill leaves draft)."""
    from billing.bills.services import bill_issue

    bill = BillFactory(customer=customer or CustomerFactory(), period=period, lines=list(lines))
    return bill_issue(user=user, bill=bill, due_date=due_date)


# --- reports (issue 7): bills, payments, allocations and usage as plain rows ---
# These set amount_paid/allocated explicitly; tests keep them equal to the active
# allocations, as the reconciliation services do.

from billing.models import PaymentAllocation, UsageRecord  # noqa: E402


class ReportBillFactory(DjangoModelFactory):
    """A bill in any status, built as a plain row for report fixtures.

    `series_lines=[(series, "100.00"), ...]` adds lines while the bill is still a
    draft; the requested status is set afterwards, because the freeze triggers
    refuse lines on a bill that has left draft.
    """

    class Meta:
        model = Bill
        skip_postgeneration_save = True

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

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        status = kwargs.pop("status")
        bill = super()._create(model_class, *args, status=Bill.Status.DRAFT, **kwargs)
        bill._final_status = status
        return bill

    @factory.post_generation
    def series_lines(obj, create, extracted, **kwargs):  # noqa: N805
        for position, (series, amount) in enumerate(extracted or [], start=1):
            ReportBillLineFactory(
                bill=obj, series=series, amount=_Decimal(amount), position=position
            )
        if create and obj._final_status != Bill.Status.DRAFT:
            Bill.objects.filter(pk=obj.pk).update(status=obj._final_status)
            obj.status = obj._final_status


class ReportBillLineFactory(DjangoModelFactory):
    class Meta:
        model = BillLine

    bill = factory.SubFactory(ReportBillFactory)
    series = factory.SubFactory(DeviceSeriesFactory)
    line_type = BillLine.LineType.SINGLE
    quantity = _Decimal("10")
    unit_price = _Decimal("10.00")
    amount = _Decimal("100.00")
    explanation = "10 次单层拍摄 × ¥10.00 = ¥100.00"


class ReportPaymentFactory(DjangoModelFactory):
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

    payment = factory.SubFactory(ReportPaymentFactory)
    bill = factory.SubFactory(ReportBillFactory)
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


# --- billing: plans (issue 5) -------------------------------------------------

from billing.models import PricePlan  # noqa: E402


class PricePlanFactory(DjangoModelFactory):
    class Meta:
        model = PricePlan

    customer = factory.SubFactory(CustomerFactory)
    series = factory.SubFactory(DeviceSeriesFactory)
    kind = PricePlan.Kind.PER_SHOOT
    version = factory.Sequence(lambda n: n + 1)
    single_price = _Decimal("8.00")


# --- API (issue 8): the shared factories with the API tests' defaults ----------


class ApiContactFactory(ContactFactory):
    phone = "13800138000"
    is_primary = True


class ApiPricePlanFactory(PricePlanFactory):
    single_price = _Decimal("12.50")
    valid_from = _dt.date(2025, 1, 1)


class ApiUsageRecordFactory(UsageRecordFactory):
    source_ref = factory.Sequence(lambda n: f"SO-F{n}")


class ApiBillFactory(ReportBillFactory):
    number = factory.LazyAttribute(lambda o: f"BILL-{o.period:%Y%m}-{o.customer.company_id}")
    total = _Decimal("1000.00")
    due_date = _dt.date(2025, 12, 1)


class ApiPaymentFactory(PaymentFactory):
    amount = _Decimal("600.00")
    received_on = _dt.date(2025, 11, 20)
    bank_ref = factory.Sequence(lambda n: f"CMB{n:08d}")


class ApiAllocationFactory(AllocationFactory):
    payment = factory.SubFactory(ApiPaymentFactory)
    bill = factory.SubFactory(ApiBillFactory, customer=factory.SelfAttribute("..payment.customer"))
    amount = _Decimal("100.00")


# --- Customer archive depth (issue 18) ---------------------------------------


class DictionaryItemFactory(DjangoModelFactory):
    class Meta:
        model = "customers.DictionaryItem"
        django_get_or_create = ("kind", "value")

    kind = "region"
    value = factory.Sequence(lambda n: f"地区{n}")


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = "customers.Project"

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"项目{n}")
    kind = "shooting"


class AdAccountFactory(DjangoModelFactory):
    class Meta:
        model = "customers.AdAccount"

    customer = factory.SubFactory(CustomerFactory)
    platform = "google"
    account_id = factory.Sequence(lambda n: f"100-200-{n:04d}")
    monthly_spend = _Decimal("5000.00")


# --- schedules, notifications, channels (issue 13) ---------------------------


class RenewalFactory(DjangoModelFactory):
    class Meta:
        model = "customers.Renewal"

    customer = factory.SubFactory(CustomerFactory)
    expires_on = _dt.date(2026, 1, 31)
    amount = _Decimal("12000.00")


class AttentionItemFactory(DjangoModelFactory):
    class Meta:
        model = "customers.AttentionItem"

    customer = factory.SubFactory(CustomerFactory)
    category = "risk"
    text = "客户对价格敏感，月底前回访"


class LifecycleRuleFactory(DjangoModelFactory):
    class Meta:
        model = "customers.LifecycleRule"

    name = factory.Sequence(lambda n: f"测试规则{n}")
    from_status = "active"
    to_status = "dormant"
    condition = "no_usage_days"
    days = 90
    manual_hold_days = 30


class WebhookSubscriptionFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.WebhookSubscription"

    name = factory.Sequence(lambda n: f"财务系统{n}")
    url = "http://127.0.0.1:9/hook"
    secret = "s3cret-key"
    events = factory.LazyFunction(lambda: ["bill.issued", "payment.recorded"])


class TeamChannelFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.TeamChannel"

    team = factory.SubFactory(TeamFactory)
    provider = "dingtalk"
    webhook_url = "http://127.0.0.1:9/robot/send?access_token=abc"
    secret = "SEC-test-secret"


# --- head-office groups (issue 16) --------------------------------------------

from customers.models import CustomerGroup  # noqa: E402


class CustomerGroupFactory(DjangoModelFactory):
    class Meta:
        model = CustomerGroup

    name = factory.Sequence(lambda n: f"测试集团{n}")
    head_office = factory.SubFactory(CustomerFactory)


# --- collections desk (issue 15) ------------------------------------------------

from billing.models import CollectionContact, PaymentPromise  # noqa: E402


class CollectionContactFactory(DjangoModelFactory):
    class Meta:
        model = CollectionContact

    customer = factory.SubFactory(CustomerFactory)
    channel = CollectionContact.Channel.CALL
    outcome = CollectionContact.Outcome.REACHED


class PaymentPromiseFactory(DjangoModelFactory):
    class Meta:
        model = PaymentPromise

    customer = factory.SubFactory(CustomerFactory)
    amount = _Decimal("500.00")
    promised_date = _dt.date(2026, 11, 20)


# --- month-end close (issue 14) -------------------------------------------------

from billing.models import Period  # noqa: E402


class PeriodFactory(DjangoModelFactory):
    """A closed month (a month without a row is open)."""

    class Meta:
        model = Period
        django_get_or_create = ("month",)

    month = _dt.date(2025, 10, 1)
    status = Period.Status.CLOSED
