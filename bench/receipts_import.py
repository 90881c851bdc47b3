"""Time the bank-receipt import (preview and confirm) for N rows; everything is rolled back.

DJANGO_SETTINGS_MODULE=opcms.settings.local \
DATABASE_URL=postgres://postgres@127.0.0.1:5432/opcms_bench .venv/bin/python bench/receipts_import.py [N]
Each row pays one customer's issued bill by bill number (the matching path with most work).
Target: 1,000 rows confirmed in <= 3 s; yardstick: the upload reader's read of the same file.
"""

import io
import logging
import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opcms.settings.local")

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)

from django.db import transaction  # noqa: E402
from django.urls import reverse  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from accounts.models import (  # noqa: E402
    Notification,
    Team,
    TeamChannel,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from accounts.roles import Role  # noqa: E402
from bench._common import require_scratch_database, result  # noqa: E402
from billing.models import Bill, BillLine  # noqa: E402
from billing.payments.receipts import receipts_confirm, receipts_preview  # noqa: E402
from customers.models import Customer  # noqa: E402
from customers.pinyin import name_sort_key  # noqa: E402
from opcms.spreadsheets import spreadsheet_read  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
require_scratch_database()

with transaction.atomic():
    user = User.objects.create(username="bench-receipts", role=Role.OPS)
    # As the company runs: each customer has a sales owner (told of every payment, by email
    # too), the sales team has a group robot, and one outside system subscribes to payments.
    team = Team.objects.create(name="基准销售组")
    TeamChannel.objects.create(
        team=team, provider=TeamChannel.Provider.WECOM, webhook_url="https://robot.invalid/x"
    )
    owners = [
        User.objects.create(
            username=f"bench-sales-{i}", role=Role.SALES, team=team, email=f"s{i}@bench.invalid"
        )
        for i in range(5)
    ]
    WebhookSubscription.objects.create(
        name="基准", url="https://hook.invalid/", secret="s", events=["payment.recorded"]
    )
    customers = Customer.objects.bulk_create(
        Customer(
            company_id=8_000_000 + i,
            name=f"基准客户{i}",
            name_pinyin=name_sort_key(f"基准客户{i}"),
            sales_owner=owners[i % len(owners)],
        )
        for i in range(N)
    )
    bills = Bill.objects.bulk_create(
        Bill(
            number=f"BENCH-{c.company_id}",
            customer=c,
            period=date(2025, 10, 1),
            total=Decimal("100.00"),
        )
        for c in customers
    )
    BillLine.objects.bulk_create(
        BillLine(bill=b, amount=Decimal("100.00"), explanation="基准") for b in bills
    )
    Bill.objects.filter(pk__in=[b.pk for b in bills]).update(status=Bill.Status.ISSUED)

    wb = Workbook()
    ws = wb.active
    ws.append(["收款日期", "金额", "付款人", "流水号", "公司id", "账单号"])
    for i, b in enumerate(bills):
        ws.append(
            [date(2025, 11, 5), 100 if i % 2 else 60, f"基准客户{i}", f"BENCH-R{i}", None, b.number]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    content = buffer.getvalue()

    reverse("home")  # a worker process has its URLconf loaded (notifications link to pages)
    start = time.perf_counter()
    next(spreadsheet_read(content, filename="bench.xlsx").sheets())
    t_read = time.perf_counter() - start

    start = time.perf_counter()
    preview = receipts_preview(content=content, filename="bench.xlsx", user=user)
    t_preview = time.perf_counter() - start
    assert not preview.errors, preview.errors[:3]

    start = time.perf_counter()
    summary = receipts_confirm(content=content, filename="bench.xlsx", user=user)
    t_confirm = time.perf_counter() - start
    told = (Notification.objects.count(), WebhookDelivery.objects.count())
    transaction.set_rollback(True)

print(
    f"{N} rows  preview {t_preview:.2f} s  confirm {t_confirm:.2f} s "
    f"({t_confirm / N * 1000:.1f} ms/row)  {summary}  "
    f"notifications {told[0]}, webhook and robot deliveries {told[1]}"
)
result(
    f"bank receipts {N:,} rows, confirm",
    f"{t_confirm:.2f} s",
    "<= 3 s" if N >= 1000 else f"<= {3 * N / 1000:.2f} s (3 s per 1,000)",
    f"reading the file {t_read:.2f} s",
    t_confirm <= 3 * max(N, 1) / 1000,
)
