"""Time statement PDFs with the subset CJK font vs the full Noto CJK collection.

DJANGO_SETTINGS_MODULE=opcms.settings.local DATABASE_URL=... .venv/bin/python bench/statement_pdf.py \
    [subset|full] [rows]
Builds an in-memory statement (no database rows needed) of 1 and 6 pages (rows: 150).
Run with argument `subset` (default) or `full`, each in a fresh process (first render warms up).
The target: the first statement PDF of a fresh process after install (the subset font was
built by `manage.py build_statement_font`) in <= 2 s; yardstick: a warm render of the same.
"""

import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opcms.settings.local")

import django  # noqa: E402

django.setup()
import logging  # noqa: E402

logging.disable(logging.INFO)

from billing.statements import documents as statements  # noqa: E402
from customers.models import Customer  # noqa: E402


def make_statement(rows: int):
    customer = Customer(company_id=100001, name="上海测试房产经纪有限公司")
    items = []
    for i in range(rows):
        day = date(2025, 1, 1) + timedelta(days=i % 300)
        if i % 3 == 2:
            items.append(
                statements.StatementItem(
                    day, "payment", f"TRX{i:06d}", "银行转账（张三）", Decimal("-88.50")
                )
            )
        else:
            items.append(
                statements.StatementItem(
                    day, "bill", f"BILL-2025{i:04d}", f"{day:%Y-%m} 账单 鑫淼", Decimal("123.45")
                )
            )
    return statements.statement_compute(
        customer=customer, items=items, date_from=date(2025, 1, 1), date_to=date(2025, 12, 31)
    )


def render(st):
    document = statements.statement_pdf_document(st)
    return document.write_pdf(), len(document.pages)


from bench._common import result  # noqa: E402

mode = sys.argv[1] if len(sys.argv) > 1 else "subset"
big = int(sys.argv[2]) if len(sys.argv) > 2 else 150
first_started = time.perf_counter()
if mode == "subset":
    start = time.perf_counter()
    font = statements.cjk_subset_font()
    print(
        f"subset font {font.name}: ready in {time.perf_counter() - start:.2f} s, {font.stat().st_size / 1e6:.2f} MB"
    )
else:
    statements.cjk_subset_font = lambda: None  # the full Noto CJK collection via fontconfig

timings = []
for rows in (20, 20, 20, big):
    st = make_statement(rows)
    start = time.perf_counter()
    pdf, n = render(st)
    elapsed = time.perf_counter() - start
    timings.append(elapsed)
    if len(timings) == 1:
        first = time.perf_counter() - first_started
    print(
        f"{mode:6} font: {rows:3} rows -> {n} page(s), {elapsed:.2f} s ({elapsed / n:.2f} s/page), {len(pdf) / 1e3:.0f} kB"
    )
result(
    f"first statement PDF ({mode} font)",
    f"{first:.2f} s",
    "<= 2 s",
    f"warm render {min(timings[1:3]):.2f} s",
    first <= 2,
)
