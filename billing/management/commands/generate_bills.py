"""`python manage.py generate_bills YYYY-MM [--customer COMPANY_ID]`: draft bills for a month."""

from django.core.exceptions import ValidationError
from django.core.management import BaseCommand, CommandError

from accounts.models import User
from accounts.roles import Role
from billing.bills.services import bills_generate_for_period
from customers.models import Customer
from opcms.months import month_parse


def system_user(username: str | None) -> User:
    """The user the run is recorded under: the one named, else the first active admin."""
    qs = User.objects.filter(is_active=True)
    user = (
        qs.filter(username=username).first()
        if username
        else (qs.filter(is_superuser=True).first() or qs.filter(role=Role.ADMIN).first())
    )
    if user is None:
        raise CommandError("找不到执行用户：请用 --user 指定一个管理员或运营账号")
    return user


class Command(BaseCommand):
    help = "生成某月的草稿账单（可重复执行：草稿会被替换，已出账账单不变）。"

    def add_arguments(self, parser):
        parser.add_argument("period", help="账期月份，如 2025-10")
        parser.add_argument("--customer", type=int, help="只生成该公司id的账单")
        parser.add_argument("--user", help="记录为该用户执行（默认第一个管理员）")

    def handle(self, *args, **options):
        try:
            period = month_parse(options["period"])
        except ValueError as exc:
            raise CommandError("账期格式应为 YYYY-MM，如 2025-10") from exc
        customer_ids = None
        if options["customer"] is not None:
            customer = Customer.objects.filter(company_id=options["customer"]).first()
            if customer is None:
                raise CommandError(f"公司id {options['customer']} 不存在")
            customer_ids = [customer.pk]
        try:
            result = bills_generate_for_period(
                period=period, user=system_user(options.get("user")), customer_ids=customer_ids
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(result.summary_line())
