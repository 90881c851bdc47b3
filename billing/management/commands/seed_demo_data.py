"""Domain part of the demo data: device series and the demo customers of fixtures/.

Lives in billing because billing sits above customers (it will also create
price plans and usage); `seed_demo` in accounts calls it by name.
"""

from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand

from billing.customer_import import customer_import_run
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
        # The demo customers go through the real importer, so the demo shows
        # exactly what an import of the company workbook produces.
        with (FIXTURES / "customers_sample.xlsx").open("rb") as fileobj:
            outcome = customer_import_run(
                fileobj=fileobj, filename="customers_sample.xlsx", user=None, source="seed"
            )
        self.stdout.write(f"演示客户：{outcome.plan.summary_line()}")
