"""`python manage.py rebuild_money_totals`: recompute the data kept on write from the bills,
payments and allocations: the money totals reports read (billing/money_totals.py) and the
24-hour measure's facts (billing/collections/facts.py), e.g. after rows were written with
triggers off (a restore with session_replication_role = replica) or TIME_ZONE changed."""

from django.core.management import BaseCommand

from billing import money_totals
from billing.collections import facts
from billing.models import (
    BillMeasureFact,
    BillTotal,
    CustomerBilledTotal,
    CustomerPaymentTotal,
    PaymentTotal,
)


class Command(BaseCommand):
    help = "由账单、收款和核销重新计算报表汇总与 24 小时跟进的账单事实；计算期间写入会等待。"

    def handle(self, *args, **options):
        money_totals.rebuild()
        facts.rebuild()
        self.stdout.write(
            f"账单汇总 {BillTotal.objects.count()} 行，收款月汇总 {PaymentTotal.objects.count()} 行，"
            f"客户收款汇总 {CustomerPaymentTotal.objects.count()} 行，"
            f"客户近 12 月账单汇总 {CustomerBilledTotal.objects.count()} 行，"
            f"24 小时跟进账单事实 {BillMeasureFact.objects.count()} 行"
        )
