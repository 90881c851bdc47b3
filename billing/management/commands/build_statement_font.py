"""Build the GB2312 subset of Noto Sans CJK SC that statement PDFs embed (run once per deploy)."""

import time

from django.core.management.base import BaseCommand

from billing.statements.documents import cjk_subset_font


class Command(BaseCommand):
    help = "生成对账单 PDF 使用的中文子集字体（首次约 11 秒，之后直接复用）"

    def handle(self, *args, **options):
        start = time.perf_counter()
        font = cjk_subset_font()
        if font is None:
            self.stderr.write(
                "未找到 Noto CJK 字体（Debian 包 fonts-noto-cjk），PDF 将使用系统字体"
            )
            return
        self.stdout.write(f"{font}（{time.perf_counter() - start:.1f} 秒）")
