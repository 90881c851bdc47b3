"""Domain part of the demo data: device series, the demo customers with their price plans, usage.

Lives in billing because billing sits above customers: the company workbook
creates customers and, from its price columns, their plans. `seed_demo` in
accounts calls it by name. Idempotent: each part runs only while it is empty.
"""

from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand

from accounts.models import User
from accounts.roles import Role
from billing.customer_import import customer_import_run
from billing.models import DeviceSeries, UsageRecord
from billing.usage import read_usage_workbook, usage_ingest
from customers.models import Customer

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
            result = usage_ingest(records=records, user=admin, source="import")
            self.stdout.write(f"演示用量：{result.created} 条")
