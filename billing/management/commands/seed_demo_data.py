"""Domain part of the demo data: device series, the demo customers with their price plans, usage.

Lives in billing because billing sits above customers: the company workbook
creates customers and, from its price columns, their plans. `seed_demo` in
accounts calls it by name. Idempotent: each part runs only while it is empty.
"""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from billing.bills.services import bill_issue, bills_generate_for_period
from billing.models import Bill, Payment, PricePlan, UsageRecord
from billing.payments.services import payment_allocate_oldest_first, payment_record
from billing.plans.services import plan_new_version
from billing.usage.services import read_usage_workbook, usage_ingest
from billing.workbook.services import customer_import_run
from customers.models import Customer, DeviceSeries, DictionaryItem, Project
from customers.qa.services import issue_action_save
from customers.services import (
    BatchAction,
    customer_regions_set,
    customers_batch_apply,
    profile_save,
    section_item_save,
)
from opcms.months import month_shift

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


class Command(BaseCommand):
    help = "载入演示用的设备系列、客户、价格方案和用量（可重复执行）。"

    def handle(self, *args, **options):
        for order, (code, name) in enumerate([("X", "X 系列"), ("N", "N 系列"), ("L", "L 系列")]):
            DeviceSeries.objects.get_or_create(
                code=code, defaults={"name": name, "sort_order": order}
            )
        admin = User.objects.filter(role=Role.ADMIN).first()
        if not Customer.objects.exists():
            # Through the real importer, so the demo shows exactly what an import
            # of the company workbook produces, price plans included (series L
            # from the sheet title).
            with (FIXTURES / "customers_sample.xlsx").open("rb") as fileobj:
                outcome = customer_import_run(
                    fileobj=fileobj, filename="customers_sample.xlsx", user=admin, source="seed"
                )
            self.stdout.write(
                f"演示客户：{outcome.plan.summary_line()}；价格方案提示 {len(outcome.plan_warnings)} 条"
            )
        if admin is not None and not UsageRecord.objects.exists():
            with (FIXTURES / "usage_sample.xlsx").open("rb") as fileobj:
                sheet = read_usage_workbook(fileobj, kind="long", series="L")
            known = set(Customer.objects.values_list("company_id", flat=True))
            records = [r for r in sheet.records if r["company_id"] in known]
            months = _shift_to_recent(records, today=timezone.localdate())
            result = usage_ingest(records=records, user=admin, source="import")
            self.stdout.write(
                f"演示用量：{result.created} 条（日期平移 {months} 个月，落在最近三个月）"
            )
        if admin is not None and not Bill.objects.exists():
            self._settle_recent_months(admin)
        if admin is not None and not PricePlan.objects.filter(kind=PricePlan.Kind.ANNUAL).exists():
            self._annual_packages(admin)
        if admin is not None:
            self._sales_get_billed_customers(admin)
        if admin is not None and not Project.objects.exists():
            self._archive_sections(admin)

    def _settle_recent_months(self, admin) -> None:
        """Bill the last three months as a clerk would: the two older ones issued and partly
        paid, the latest left in draft for the month-end run the demo is meant to show."""
        last = month_shift(timezone.localdate().replace(day=1), -1)
        periods = [month_shift(last, -2), month_shift(last, -1), last]
        for period in periods:
            bills_generate_for_period(period=period, user=admin)
        issued = []
        for period in periods[:2]:
            due = month_shift(period, 2) - timedelta(days=1)
            for bill in Bill.objects.filter(period=period, status=Bill.Status.DRAFT):
                issued.append(bill_issue(user=admin, bill=bill, due_date=due))
        paid = 0
        for index, bill in enumerate(b for b in issued if b.total > 0):
            if index % 3 == 2:
                continue  # every third bill stays unpaid: the demo needs receivables
            share = Decimal("1") if index % 3 == 0 else Decimal("0.5")
            payment = payment_record(
                user=admin,
                customer=bill.customer,
                amount=(bill.total * share).quantize(Decimal("0.01")),
                received_on=min(bill.due_date, timezone.localdate()),
                method=Payment.Method.BANK,
                bank_ref=f"DEMO-{bill.number}",
                payer=bill.customer.name,
            )
            payment_allocate_oldest_first(user=admin, payment=payment)
            paid += 1
        self.stdout.write(
            f"演示账单：{len(issued)} 张已出账，{paid} 笔收款；{last:%Y-%m} 为草稿待出账"
        )

    def _annual_packages(self, admin) -> None:
        """Move the four busiest customers onto annual packages from this month, their
        contract year ending this month, so the burn-down and the renewal pipeline have
        something to show: one about to run out, one that will overrun, one with room to
        spare, one unlimited."""
        today = timezone.localdate()
        this_month = today.replace(day=1)
        contract_start = month_shift(this_month, -11)  # the contract year ends this month
        busiest = (
            UsageRecord.objects.values("customer_id")
            .annotate(shots=Sum("shots"))
            .order_by("-shots", "customer_id")[:40]
        )
        # quota as a multiple of the contract year's shots so far; None is unlimited
        quota_factors = [Decimal("1.05"), Decimal("0.9"), Decimal("3"), None]
        made = 0
        for row in busiest:
            if made == len(quota_factors):
                break
            factor = quota_factors[made]
            plan = (
                PricePlan.objects.filter(customer_id=row["customer_id"], valid_to__isnull=True)
                .order_by("-valid_from")
                .first()
            )
            if plan is None or (plan.valid_from and plan.valid_from >= this_month):
                continue
            unit = plan.single_price or Decimal("10")
            quota = int(row["shots"] * factor) if factor is not None else None
            plan_new_version(
                user=admin,
                plan=plan,
                valid_from=this_month,
                data={
                    "kind": PricePlan.Kind.ANNUAL,
                    "annual_fee": (unit * row["shots"] * 4).quantize(Decimal("1")),
                    "annual_quota": quota,
                    "overage_price": unit,
                    "fee_schedule": PricePlan.FeeSchedule.MONTHLY,
                    "contract_start": contract_start,
                },
            )
            made += 1
        self.stdout.write(f"演示包年套餐：{made} 个（合同年度本月底到期）")

    def _archive_sections(self, admin) -> None:
        """A few of each demo salesperson's customers get the archive's sections filled in
        (contact, business profile, site, project, ad account, a Q&A entry with an action),
        through the services, so the customer page and the Q&A search show real content."""
        today = timezone.localdate()
        regions = [
            DictionaryItem.objects.get_or_create(
                kind=DictionaryItem.Kind.REGION, value=name, defaults={"sort_order": order}
            )[0]
            for order, name in enumerate(DEMO_REGIONS)
        ]
        filled = 0
        # The first salespeople (the demo's three; a bench database holds hundreds more).
        salespeople = User.objects.filter(role=Role.SALES, is_active=True).order_by("pk")[:3]
        for user in salespeople:
            customers = Customer.objects.filter(sales_owner=user, is_deleted=False).order_by(
                "company_id"
            )[: len(ARCHIVE_DEMO)]
            for customer, row in zip(customers, ARCHIVE_DEMO, strict=False):
                _archive_demo(admin, customer, row, today=today, owner=user)
                customer_regions_set(
                    user=admin, customer=customer, regions=[regions[filled % len(regions)]]
                )
                filled += 1
        if filled:
            self.stdout.write(f"演示档案：{filled} 个客户填写了商业概况、项目、广告账户与问题记录")

    def _sales_get_billed_customers(self, admin) -> None:
        """The sample's customers owned by the demo salespeople have no usage, so a sales
        login would see no bill, no overdue and an empty desk. Hand each salesperson a few
        of the billed customers that have no owner (through the batch owner action, so the
        change is audited) — only those who own no billed customer yet, so once."""
        billed = Bill.objects.exclude(status=Bill.Status.DRAFT)
        sales = list(
            User.objects.filter(role=Role.SALES, is_active=True)
            .exclude(
                pk__in=billed.filter(customer__sales_owner__isnull=False).values(
                    "customer__sales_owner_id"
                )
            )
            .order_by("username")
        )
        if not sales:
            return
        unowned = list(
            Customer.objects.filter(sales_owner__isnull=True, pk__in=billed.values("customer_id"))
            .order_by("company_id")
            .values_list("pk", flat=True)[: 6 * len(sales)]
        )
        # A database with more salespeople than unowned billed customers (a bench's, say)
        # hands out what there is; a salesperson whose share is empty keeps none.
        handed = 0
        for index, user in enumerate(sales):
            share = unowned[index :: len(sales)]
            if not share:
                continue
            customers_batch_apply(
                user=admin,
                customers=Customer.objects.filter(pk__in=share),
                action=BatchAction.SALES_OWNER,
                value=user.pk,
                reason="演示数据：给销售分配有账单的客户",
            )
            handed += 1
        if handed:
            self.stdout.write(f"演示销售：{handed} 人分到共 {len(unowned)} 个有账单的客户")


DEMO_REGIONS = ["华东", "华南", "华北", "西南", "西北"]
ARCHIVE_DEMO = [
    # (contact, phone, business model, site, project, ad platform, monthly spend, Q&A)
    ("陈经理", "13800138001", "brand", "https://shop.example.com", "2026 年度 VR 拍摄", "google", "8800.50", "服务问题", "拍摄排期延误两天，客户不满", 12),
    ("刘总监", "13800138002", "b2b_factory", "https://factory.example.com", "独立站改版", "facebook", "3200.00", "技术问题", "VR 链接在部分手机上打不开", 45),
    ("周主管", "13800138003", "marketplace", "", "季度代运营", "tiktok", "12000.00", "沟通问题", "账单抬头与合同不一致，客户要求重开", 80),
]  # fmt: skip


def _archive_demo(admin, customer: Customer, row: tuple, *, today: date, owner) -> None:
    contact, phone, model, site, project, platform, spend, category, problem, days_ago = row
    section_item_save(
        user=admin,
        customer=customer,
        section="contacts",
        data={"name": contact, "position": "市场部", "phone": phone, "is_primary": True},
    )
    profile_save(
        user=admin,
        customer=customer,
        section="business",
        data={
            "business_model": model,
            "overseas_sales": Decimal("2000000"),
            "overseas_sales_ratio": Decimal("35"),
            "main_sales_channel": "亚马逊",
            "has_operations_team": True,
        },
    )
    if site:
        profile_save(
            user=admin,
            customer=customer,
            section="website",
            data={
                "site_url": site,
                "platform": "shopify",
                "build_status": "live",
                "monthly_traffic_target": 20000,
                "annual_sales_target": Decimal("500000"),
            },
        )
    section_item_save(
        user=admin,
        customer=customer,
        section="projects",
        data={
            "name": project,
            "kind": "shooting",
            "status": "in_progress",
            "start_on": today - timedelta(days=40),
            "owner": owner,
        },
    )
    section_item_save(
        user=admin,
        customer=customer,
        section="adaccounts",
        data={
            "platform": platform,
            "account_id": f"{customer.company_id}-{platform}",
            "monthly_spend": Decimal(spend),
        },
    )
    issue = section_item_save(
        user=admin,
        customer=customer,
        section="issues",
        data={
            "occurred_on": today - timedelta(days=days_ago),
            "category": category,
            "description": problem,
            "root_cause": "设备调度冲突",
            "corrective_action": "固定每周一确认排期",
            "lessons_learned": "旺季提前一周锁定设备",
            "owner": owner,
            "due_on": today + timedelta(days=7),
            "status": "in_progress",
        },
    )
    issue_action_save(
        user=admin,
        issue=issue,
        data={
            "description": "下周回访客户确认满意度",
            "owner": owner,
            "due_on": today + timedelta(days=5),
        },
    )


def _shift_to_recent(records: list[dict], *, today: date) -> int:
    """Move the sample's shoots forward by whole months so its last month is last month.

    The sample workbook is from 2025; a demo dated today should show recent usage.
    Days past the end of a shorter month fall on its last day. Returns the shift.
    """
    dates = [_as_date(r["shot_date"]) for r in records]
    if not dates:
        return 0
    latest = max(dates)
    target = month_shift(today.replace(day=1), -1)
    months = (target.year - latest.year) * 12 + target.month - latest.month
    for record, day in zip(records, dates, strict=True):
        first = month_shift(day.replace(day=1), months)
        last_day = (month_shift(first, 1) - timedelta(days=1)).day
        record["shot_date"] = first.replace(day=min(day.day, last_day)).isoformat()
    return months


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
