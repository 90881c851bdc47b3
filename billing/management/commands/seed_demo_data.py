"""Domain part of the demo data: device series and the demo customers of fixtures/.

Lives in billing because billing sits above customers (it will also create
price plans and usage); `seed_demo` in accounts calls it by name.
"""

from pathlib import Path

import openpyxl
from django.conf import settings
from django.core.management import BaseCommand

from accounts.models import User
from billing.models import DeviceSeries
from customers.models import Customer

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


class Command(BaseCommand):
    help = "载入演示用的设备系列和客户（可重复执行）。"

    def handle(self, *args, **options):
        for order, (code, name) in enumerate([("X", "X 系列"), ("N", "N 系列"), ("L", "L 系列")]):
            DeviceSeries.objects.get_or_create(
                code=code, defaults={"name": name, "sort_order": order}
            )
        if Customer.objects.exists():
            return
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
