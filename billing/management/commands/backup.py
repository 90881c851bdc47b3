import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.operations.backups import MANIFEST_NAME, backup_create, backup_nightly


class Command(BaseCommand):
    help = "备份数据库（pg_dump 自定义格式）、媒体文件与清单到一个新目录"

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            type=Path,
            help="新的备份目录（须不存在或为空）；省略则写入 OPCMS_BACKUP_DIR 下按时间命名的目录并按保留规则清理",
        )

    def handle(self, *args, to: Path | None, **options):
        try:
            if to is None:  # the nightly run: a timestamped directory, then retention
                to = backup_nightly(root=Path(settings.OPCMS_BACKUP_DIR))
                manifest = json.loads((to / MANIFEST_NAME).read_text())
            else:
                manifest = backup_create(target=to)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        rows = sum(manifest["row_counts"].values())
        self.stdout.write(
            f"backup={to} tables={len(manifest['row_counts'])} rows={rows} "
            + " ".join(f"{k}={v}" for k, v in manifest["sums"].items())
        )
