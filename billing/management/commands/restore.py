from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.operations.backups import Database, backup_restore


class Command(BaseCommand):
    help = "把备份目录恢复到一个空数据库，并按清单核对行数与金额合计"

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="backup --to 写出的备份目录")
        parser.add_argument(
            "--database-name",
            default="",
            help="恢复到同一服务器上的另一个空数据库（默认：当前配置的数据库）",
        )

    def handle(self, *args, source: Path, database_name: str, **options):
        database = Database.default()
        if database_name:
            database = database.with_name(database_name)
        try:
            manifest = backup_restore(source=source, database=database)
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(
            f"restored={database.name} tables={len(manifest['row_counts'])} "
            f"rows={sum(manifest['row_counts'].values())} checked=ok"
        )
