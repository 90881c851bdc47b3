"""`python manage.py rebuild_money_totals`: recompute the money totals reports read
(billing/money_totals.py) from the bills and payments, e.g. after rows were written with
triggers off (a restore with session_replication_role = replica)."""

from django.core.management import BaseCommand

from billing import money_totals
from billing.models import BillTotal, CustomerPaymentTotal, PaymentTotal


class Command(BaseCommand):
    help = "由账单和收款重新计算报表汇总（应收、收款汇总）；计算期间写入账单和收款会等待。"

    def handle(self, *args, **options):
        money_totals.rebuild()
        self.stdout.write(
            f"账单汇总 {BillTotal.objects.count()} 行，收款月汇总 {PaymentTotal.objects.count()} 行，"
            f"客户收款汇总 {CustomerPaymentTotal.objects.count()} 行"
        )
