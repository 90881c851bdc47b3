"""`manage.py import_customers PATH`: the company workbook import for admins, same code as the web flow."""

from datetime import date
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from accounts.models import User
from billing.workbook.services import customer_import_run
from customers.importers import ImportFileError


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--valid-from 应为 YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = "导入客户工作簿（.xlsx/.csv）：新增或更新客户，暂存价格并生成价格方案。"

    def add_arguments(self, parser):
        parser.add_argument("path", help="工作簿路径（.xlsx 或 .csv）")
        parser.add_argument(
            "--series", choices=["X", "N", "L"], default="", help="价格所属设备系列"
        )
        parser.add_argument("--valid-from", type=_date, default=None, help="价格方案生效日期")
        parser.add_argument("--dry-run", action="store_true", help="只校验和统计，不写入")
        parser.add_argument("--user", default="", help="记入审计日志的操作人用户名")

    def handle(self, *args, path, series, valid_from, dry_run, user, **options):
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"用户不存在：{user}")
        file_path = Path(path)
        if not file_path.is_file():
            raise CommandError(f"文件不存在或无法读取：{path}")
        try:
            with file_path.open("rb") as fileobj:
                outcome = customer_import_run(
                    fileobj=fileobj,
                    filename=file_path.name,
                    user=actor,
                    series_code=series,
                    valid_from=valid_from,
                    dry_run=dry_run,
                    source="command",
                )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}") from exc
        if options["verbosity"] >= 2:
            for row in outcome.plan.problem_rows():
                self.stderr.write(f"第 {row.row_number} 行：{row.problems}")
            for warning in outcome.plan_warnings:
                self.stderr.write(warning)
        for note in outcome.plan.notes:
            self.stderr.write(note)
        self.stdout.write(outcome.plan.summary_line())
