"""Bank receipt import: matching order, preview without writes, atomic confirm, error workbook."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from accounts.models import Job
from billing.models import Bill, Payment
from billing.payments.receipts import receipts_confirm, receipts_error_workbook, receipts_preview
from tests.factories import CustomerFactory, PaymentFactory, issued_bill

pytestmark = pytest.mark.django_db

D = Decimal
HEADER = ["收款日期", "金额", "付款人", "流水号", "公司id", "账单号"]


def xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def ledger(ops_user):
    a = CustomerFactory(name="甲公司")
    b = CustomerFactory(name="乙公司")
    c = CustomerFactory(name="丙公司")
    bill_a = issued_bill(user=ops_user, customer=a, lines=["100.00"])
    bill_b = issued_bill(user=ops_user, customer=b, lines=["80.00"])
    bill_c = issued_bill(user=ops_user, customer=c, lines=["60.00"])
    return {"a": a, "b": b, "c": c, "bill_a": bill_a, "bill_b": bill_b, "bill_c": bill_c}


def good_rows(ledger):
    return [
        [dt.date(2025, 11, 3), 100, "某某个人", "R1", None, ledger["bill_a"].number],
        ["2025/11/04", "120.00", "张三", "R2", ledger["b"].company_id, None],
        ["2025-11-05", "60", "丙公司", "R3", None, None],
    ]


def test_preview_matches_by_bill_then_company_then_payer_and_writes_nothing(ops_user, ledger):
    preview = receipts_preview(content=xlsx(good_rows(ledger)), filename="r.xlsx", user=ops_user)

    assert [(r.matched_by, r.customer_id) for r in preview.rows] == [
        ("账单号", ledger["a"].pk),
        ("公司id", ledger["b"].pk),
        ("付款人名称", ledger["c"].pk),
    ]
    assert preview.errors == []
    assert preview.total == D("280.00")
    assert not Payment.objects.exists()


def test_confirm_records_and_allocates_leaving_credit(ops_user, ledger):
    summary = receipts_confirm(content=xlsx(good_rows(ledger)), filename="r.xlsx", user=ops_user)

    assert summary["收款笔数"] == 3
    statuses = {b: Bill.objects.get(pk=ledger[b].pk).status for b in ("bill_a", "bill_b", "bill_c")}
    assert statuses == {"bill_a": "paid", "bill_b": "paid", "bill_c": "paid"}
    over = Payment.objects.get(bank_ref="R2")
    assert over.unallocated == D("40.00")  # 120 received on an 80 bill: credit

    again = receipts_confirm  # the same file a second time is refused: references already recorded
    with pytest.raises(ValidationError):
        again(content=xlsx(good_rows(ledger)), filename="r.xlsx", user=ops_user)
    assert Payment.objects.count() == 3


def test_errors_name_row_and_column_and_block_the_whole_file(ops_user, ledger):
    PaymentFactory(bank_ref="DUP")
    rows = [
        *good_rows(ledger),
        ["2025-13-01", "abc", "无名氏", "", None, None],
        ["2025-11-06", "10", "甲公司", "DUP", None, None],
        ["2025-11-06", "10", "甲公司", "R1", None, None],
        ["2025-11-06", "10", "x", "R9", 424242, None],
    ]
    content = xlsx(rows)

    preview = receipts_preview(content=content, filename="r.xlsx", user=ops_user)
    messages = {r.row_number: "；".join(r.errors) for r in preview.errors}

    assert "第 5 行“收款日期”列" in messages[5]
    assert "“金额”列" in messages[5] and "“流水号”列：不能为空" in messages[5]
    assert "已登记过" in messages[6]
    assert "与第 2 行重复" in messages[7]
    assert "424242 不存在" in messages[8]
    with pytest.raises(ValidationError, match="4 行错误"):
        receipts_confirm(content=content, filename="r.xlsx", user=ops_user)
    assert Payment.objects.count() == 1

    sheet = load_workbook(io.BytesIO(receipts_error_workbook(preview))).active
    assert sheet.cell(1, len(HEADER) + 2).value == "错误说明"
    assert sheet.max_row == 5


def test_csv_in_gb18030_and_missing_columns(ops_user, ledger):
    text = "日期,金额,付款方,银行流水号\n2025-11-05,60,丙公司,C1\n"
    preview = receipts_preview(content=text.encode("gb18030"), filename="r.csv", user=ops_user)
    assert preview.rows[0].customer_id == ledger["c"].pk
    with pytest.raises(ValidationError, match="缺少列：付款人、流水号"):
        receipts_preview(content="日期,金额\n".encode(), filename="r.csv", user=ops_user)
    with pytest.raises(ValidationError, match="不是 Excel 工作簿（.xlsx）或 CSV"):
        receipts_preview(content=b"x", filename="r.pdf", user=ops_user)


def test_sales_scope_limits_matching(sales_user, ledger):
    preview = receipts_preview(content=xlsx(good_rows(ledger)), filename="r.xlsx", user=sales_user)
    assert len(preview.errors) == 3


def test_upload_preview_confirm_through_the_views(
    client, ops_user, ledger, django_capture_on_commit_callbacks
):
    client.force_login(ops_user)
    upload = io.BytesIO(xlsx(good_rows(ledger)))
    upload.name = "银行流水.xlsx"

    response = client.post(reverse("billing:receipt-import"), {"file": upload})
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert "付款人名称" in preview.content.decode()
    job = Job.objects.get(kind="receipt_import")

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("billing:receipt-preview", args=[job.pk]))
    with django_capture_on_commit_callbacks(execute=True):  # a double click queues nothing
        client.post(reverse("billing:receipt-preview", args=[job.pk]))

    assert done["Location"] == reverse("accounts:job-detail", args=[job.pk])
    job.refresh_from_db()
    assert job.result["收款笔数"] == 3
    assert job.status == Job.Status.SUCCEEDED
    assert Payment.objects.count() == 3


def test_error_workbook_offered_in_preview(client, ops_user, ledger):
    client.force_login(ops_user)
    upload = io.BytesIO(xlsx([["bad", "1", "x", "E1", None, None]]))
    upload.name = "bad.xlsx"
    location = client.post(reverse("billing:receipt-import"), {"file": upload})["Location"]
    html = client.get(location).content.decode()
    job = Job.objects.get(kind="receipt_import")
    assert reverse("accounts:job-file", args=[job.pk, "errors"]) in html
    assert "确认导入" not in html


def test_failed_import_job_reports_the_reason_and_records_nothing(
    ops_user, ledger, django_capture_on_commit_callbacks
):
    from accounts.services import job_create
    from billing.payments.receipts import receipts_import_start

    content = xlsx(good_rows(ledger))
    job = job_create(
        kind="receipt_import",
        created_by=ops_user,
        params={"filename": "r.xlsx"},
        input_name="r.xlsx",
        input_bytes=content,
    )
    PaymentFactory(bank_ref="R3")  # recorded meanwhile: the confirm re-checks and refuses the file

    with django_capture_on_commit_callbacks(execute=True):
        receipts_import_start(job=job, user=ops_user)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "1 行错误" in job.message
    assert Payment.objects.count() == 1


def test_confirm_in_bulk_audits_each_payment_and_bill_and_spends_balances_in_file_order(
    ops_user, ledger
):
    # Given two rows for 乙公司 (80.00 open) and one paying 甲公司's bill by number
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    rows = [
        ["2025-11-04", "50", "张三", "B1", ledger["b"].company_id, None],
        ["2025-11-05", "50", "张三", "B2", ledger["b"].company_id, None],
        ["2025-11-05", "100", "某人", "A1", None, ledger["bill_a"].number],
    ]
    # When the file is confirmed
    receipts_confirm(content=xlsx(rows), filename="r.xlsx", user=ops_user)

    # Then the second row only takes what the first left open; the rest is credit
    bill_b = Bill.objects.get(pk=ledger["bill_b"].pk)
    assert bill_b.amount_paid == D("80.00") and bill_b.status == Bill.Status.PAID
    allocated = dict(Payment.objects.values_list("bank_ref", "allocated"))
    assert allocated == {"B1": D("50.00"), "B2": D("30.00"), "A1": D("100.00")}
    # And every payment and every bill paid has its own audit entry, by the user
    entries = LogEntry.objects.filter(actor=ops_user, changes_text__startswith="银行收款导入")
    payment_type = ContentType.objects.get_for_model(Payment)
    bill_type = ContentType.objects.get_for_model(Bill)
    assert entries.filter(content_type=payment_type).count() == 3
    assert set(entries.filter(content_type=bill_type).values_list("object_id", flat=True)) == {
        ledger["bill_a"].pk,
        ledger["bill_b"].pk,
    }


def test_confirm_writes_do_not_grow_a_query_per_row(ops_user):
    # Given 30 customers, each with an issued bill paid by number in one file
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def file_for(n, start):
        bills = [
            issued_bill(user=ops_user, customer=CustomerFactory(), lines=["10.00"])
            for _ in range(n)
        ]
        return xlsx(
            [
                ["2025-11-05", "10", "某人", f"Q{start + i}", None, b.number]
                for i, b in enumerate(bills)
            ]
        )

    small, big = file_for(3, 0), file_for(30, 100)
    # When each is confirmed
    with CaptureQueriesContext(connection) as few:
        receipts_confirm(content=small, filename="s.xlsx", user=ops_user)
    with CaptureQueriesContext(connection) as many:
        receipts_confirm(content=big, filename="b.xlsx", user=ops_user)
    # Then the writes (payments, allocations, bills, audit) are bulk: only the per-payment
    # notifications add queries per row (no sales owner here: a webhook lookup each)
    writes = [q["sql"] for q in many.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    assert (
        len(writes)
        <= len([q for q in few.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]) + 2
    )
    assert Payment.objects.filter(bank_ref__startswith="Q").count() == 33


def _owned_file(ops_user, owners, n, start):
    """n customers owned in turn by `owners`, each with an issued bill paid by number."""
    bills = [
        issued_bill(
            user=ops_user,
            customer=CustomerFactory(sales_owner=owners[i % len(owners)]),
            lines=["10.00"],
        )
        for i in range(n)
    ]
    content = xlsx(
        [["2025-11-05", "10", "某人", f"W{start + i}", None, b.number] for i, b in enumerate(bills)]
    )
    return bills, content


def test_confirm_tells_each_owner_and_subscriber_per_payment_like_one_at_a_time(
    ops_user, django_capture_on_commit_callbacks
):
    # Given customers owned by two sales people (one in a team with a robot, one who set
    # payment emails off), an outside system subscribed to payments, and a stranger customer
    # whose owner is outside scope (a deactivated user)
    from accounts.models import (
        Notification,
        NotificationKind,
        NotificationPreference,
        WebhookDelivery,
    )
    from tests.factories import (
        TeamChannelFactory,
        TeamFactory,
        UserFactory,
        WebhookSubscriptionFactory,
    )

    team = TeamFactory()
    robot = TeamChannelFactory(team=team)
    alice = UserFactory(team=team, email="alice@example.com")
    bob = UserFactory(email="bob@example.com")
    NotificationPreference.objects.create(
        user=bob, kind=NotificationKind.PAYMENT, in_app=True, email="off"
    )
    gone = UserFactory(is_active=False)
    sub = WebhookSubscriptionFactory(events=["payment.recorded"])
    WebhookSubscriptionFactory(events=["bill.issued"])
    bills, content = _owned_file(ops_user, [alice, bob, gone], 6, 0)

    # When the file is confirmed
    with django_capture_on_commit_callbacks() as callbacks:
        receipts_confirm(content=content, filename="w.xlsx", user=ops_user)

    # Then every payment is one signed event to the payments subscriber only
    payments = list(Payment.objects.filter(bank_ref__startswith="W").order_by("pk"))
    events = WebhookDelivery.objects.filter(event="payment.recorded")
    assert sorted(d.subscription_id for d in events) == [sub.pk] * 6
    assert sorted(json.loads(d.body)["data"]["payment_id"] for d in events) == [
        p.pk for p in payments
    ]
    # and each active owner has one inbox row per payment and per allocation, by their choice
    for user, mode in ((alice, "immediate"), (bob, "off")):
        rows = Notification.objects.filter(recipient=user)
        assert rows.count() == 4 and {n.email_mode for n in rows} == {mode}
        assert {n.event_key.split(":")[0] for n in rows} == {"payment", "allocation"}
    assert not Notification.objects.filter(recipient=gone).exists()
    # and alice's team robot got one post per event she was told of
    assert WebhookDelivery.objects.filter(channel=robot).count() == 4
    # and nothing leaves before the commit: alice's emails and the posts are queued for it
    assert callbacks and all(d.status == "pending" for d in WebhookDelivery.objects.all())
    # And confirming the same events again tells nobody twice
    from accounts.notifications import NotifyEvent, notify_many

    again = notify_many(
        [
            NotifyEvent(
                recipients=(alice,),
                kind=NotificationKind.PAYMENT,
                event_key=Notification.objects.filter(recipient=alice).first().event_key,
                title="再来一次",
            )
        ]
    )
    assert again.created == [] and Notification.objects.filter(recipient=alice).count() == 4


def test_confirm_queries_do_not_grow_per_row_with_owners_and_subscribers(ops_user):
    # Given sales owners in a team with a robot and a payments subscriber
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import (
        TeamChannelFactory,
        TeamFactory,
        UserFactory,
        WebhookSubscriptionFactory,
    )

    team = TeamFactory()
    TeamChannelFactory(team=team)
    owners = [UserFactory(team=team, email=f"o{i}@example.com") for i in range(3)]
    WebhookSubscriptionFactory(events=["payment.recorded"])
    _, small = _owned_file(ops_user, owners, 3, 0)
    _, big = _owned_file(ops_user, owners, 30, 100)

    # When each file is confirmed
    with CaptureQueriesContext(connection) as few:
        receipts_confirm(content=small, filename="s.xlsx", user=ops_user)
    with CaptureQueriesContext(connection) as many:
        receipts_confirm(content=big, filename="b.xlsx", user=ops_user)

    # Then ten times the rows costs no more queries (lookups once per file, writes in bulk)
    assert len(many.captured_queries) <= len(few.captured_queries) + 3
