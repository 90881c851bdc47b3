from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from maintenance.backups import backup_create


class Command(BaseCommand):
    help = "备份数据库（pg_dump 自定义格式）、媒体文件与清单到一个新目录"

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, type=Path, help="新的备份目录（须不存在或为空）")

    def handle(self, *args, to: Path, **options):
        try:
            manifest = backup_create(target=to)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        rows = sum(manifest["row_counts"].values())
        self.stdout.write(
            f"backup={to} tables={len(manifest['row_counts'])} rows={rows} "
            + " ".join(f"{k}={v}" for k, v in manifest["sums"].items())
        )
