"""`python manage.py run_schedule --today YYYY-MM-DD [--dry-run]`: the scheduler's day, by hand."""

from datetime import date

from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from billing.schedules.services import schedule_day_run


class Command(BaseCommand):
    help = "执行计划任务在某一天会执行的全部工作（同一天重复执行不会重复发送）。"

    def add_arguments(self, parser):
        parser.add_argument("--today", help="日期 YYYY-MM-DD，默认今天")
        parser.add_argument(
            "--dry-run", action="store_true", help="只统计，不写入、不发送（全部回滚）"
        )

    def handle(self, *args, **options):
        try:
            today = date.fromisoformat(options["today"]) if options["today"] else None
        except ValueError as exc:
            raise CommandError("日期格式应为 YYYY-MM-DD，如 2026-01-03") from exc
        today = today or timezone.localdate()
        outcome = schedule_day_run(today=today, dry_run=options["dry_run"])
        if options["verbosity"] > 1:
            self.stdout.write(f"{today:%Y-%m-%d} 执行：{', '.join(outcome.ran) or '无'}")
        self.stdout.write(outcome.summary_line())
