"""`python manage.py import_usage PATH --series L [--year 2025]`: usage from a workbook.

With --year the wide monthly sheet (公司id, 1月…12月) is read, otherwise the long
sheet of shoots. The import is atomic: any error stores nothing.
"""

from pathlib import Path

from django.core.management import BaseCommand, CommandError

from billing.management.commands.generate_bills import system_user
from billing.usage.services import SheetError, usage_import_file


class Command(BaseCommand):
    help = "导入用量工作簿（拍摄明细或分月汇总）；有错误时不导入任何数据。"

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--series", required=True, help="设备系列，如 L")
        parser.add_argument("--year", type=int, help="分月汇总表的年份；给出即按分月汇总导入")
        parser.add_argument("--user", help="记录为该用户导入（默认第一个管理员）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不导入")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        kind = "wide" if options["year"] else "long"
        try:
            with path.open("rb") as fh:
                parsed, result, problems = usage_import_file(
                    file=fh,
                    user=system_user(options.get("user")),
                    kind=kind,
                    series=options["series"].upper(),
                    year=options["year"],
                    commit=not options["dry_run"],
                    filename=path.name,
                )
        except SheetError as exc:
            raise CommandError(str(exc)) from exc
        for p in problems:
            self.stderr.write(f"第 {p['row']} 行 {p['column']}：{p['message']}")
        blocking = [p for p in problems if not p.get("warning")]
        self.stdout.write(
            f"sheet={parsed.sheet} records={len(parsed.records)} created={result.created} "
            f"duplicates={result.duplicates} errors={len(blocking)}"
        )
        if blocking:
            raise CommandError("有错误，未导入任何数据")
