"""`python manage.py close_period YYYY-MM [--check] [--force-reason TEXT]`: month-end close (月结)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import BaseCommand, CommandError

from billing.close.selectors import period_gates, period_is_closed
from billing.close.services import period_close
from billing.management.commands.generate_bills import system_user
from opcms.months import month_parse


class Command(BaseCommand):
    help = "检查并关闭某月（月结）。每个检查项一行，最后一行 closed=yes 或 closed=no。"

    def add_arguments(self, parser):
        parser.add_argument("period", help="账期月份，如 2025-10")
        parser.add_argument("--check", action="store_true", help="只检查，不关账")
        parser.add_argument(
            "--force-reason", default="", help="管理员强制关账的原因（豁免红色检查项）"
        )
        parser.add_argument("--user", help="记录为该用户执行（默认第一个管理员）")

    def handle(self, *args, **options):
        try:
            month = month_parse(options["period"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        user = system_user(options.get("user"))
        gates = period_gates(user=user, month=month)
        for gate in gates:
            state = "green" if gate.count == 0 else ("override" if gate.override else "red")
            self.stdout.write(f"{gate.key}: {state} count={gate.count} — {gate.label}")
        red = [g for g in gates if not g.is_green]
        closed = period_is_closed(month)
        if not options["check"] and not closed:
            try:
                period_close(user=user, period=month, force_reason=options["force_reason"])
                closed = True
            except (ValidationError, PermissionDenied) as exc:
                messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                self.stderr.write("；".join(messages))
        self.stdout.write(f"closed={'yes' if closed else 'no'}")
        if not closed and (red or not options["check"]):
            raise SystemExit(1)
