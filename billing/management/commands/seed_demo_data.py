"""Domain part of the demo data: device series and the demo customers of fixtures/.

Lives in billing because billing sits above customers (it will also create
price plans and usage); `seed_demo` in accounts calls it by name.
"""

from pathlib import Path

import openpyxl
from django.conf import settings
from django.core.management import BaseCommand

from accounts.models import User
from accounts.roles import Role
from billing.models import DeviceSeries, PricePlan, UsageRecord
from billing.plan_import import PRICE_FIELDS
from billing.pricing import parse_workbook_prices
from billing.services import plan_create
from billing.usage import read_usage_workbook, usage_ingest
from customers.models import Customer

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


class Command(BaseCommand):
    help = "载入演示用的设备系列和客户（可重复执行）。"

    def handle(self, *args, **options):
        for order, (code, name) in enumerate([("X", "X 系列"), ("N", "N 系列"), ("L", "L 系列")]):
            DeviceSeries.objects.get_or_create(
                code=code, defaults={"name": name, "sort_order": order}
            )
        if not Customer.objects.exists():
            self._customers()
        self._plans_and_usage()

    def _plans_and_usage(self):
        """Plans from the workbook's price columns and the sample's shoots, once (demo only)."""
        admin = User.objects.filter(role=Role.ADMIN).first()
        if admin is None or PricePlan.objects.exists() or UsageRecord.objects.exists():
            return
        series = DeviceSeries.objects.get(code="L")
        customers = {c.company_id: c for c in Customer.objects.all()}
        wb = openpyxl.load_workbook(FIXTURES / "customers_sample.xlsx", read_only=True)
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        made = 0
        for row in ws.iter_rows(min_row=2, values_only=True):
            customer = customers.get(row[0])
            try:
                parsed = parse_workbook_prices(row[13], row[14], row[15])
            except ValueError:
                continue
            if customer is None or parsed is None or parsed.kind != "per_shoot":
                continue
            if PricePlan.objects.filter(customer=customer, series=series).exists():
                continue
            data = {f: getattr(parsed, f) for f in PRICE_FIELDS} | {"kind": "per_shoot"}
            data |= {"source": "import", "raw_single": str(row[14]), "raw_multi": str(row[15])}
            plan_create(user=admin, customer=customer, series=series, data=data)
            Customer.objects.filter(pk=customer.pk).update(billing_enabled="yes")
            made += 1
        with (FIXTURES / "usage_sample.xlsx").open("rb") as fh:
            parsed_sheet = read_usage_workbook(fh, kind="long", series="L")
        known = [r for r in parsed_sheet.records if r["company_id"] in customers]
        result = usage_ingest(records=known, user=admin, source="import")
        self.stdout.write(f"演示价格方案：{made} 个；演示用量：{result.created} 条")

    def _customers(self):
        users = {u.full_name: u for u in User.objects.exclude(full_name="")}
        wb = openpyxl.load_workbook(FIXTURES / "customers_sample.xlsx", read_only=True)
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        rows = ws.iter_rows(min_row=2, values_only=True)
        seen: set[int] = set()
        customers = []
        for row in rows:
            company_id, name, owner = row[0], row[1], row[7]
            if company_id is None or company_id in seen or not name:
                continue
            seen.add(int(company_id))
            customers.append(
                Customer(
                    company_id=int(company_id), name=str(name), sales_owner=users.get(str(owner))
                )
            )
        Customer.objects.bulk_create(customers)
        self.stdout.write(f"演示客户：{len(customers)} 个")
