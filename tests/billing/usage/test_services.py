"""usage_ingest (the contract shared with the API) and the two usage sheets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import UsageRecord
from billing.usage.services import read_usage_workbook, usage_ingest
from tests.factories import CustomerFactory, DeviceSeriesFactory, UsageRecordFactory

pytestmark = pytest.mark.django_db
SAMPLE = Path(settings.BASE_DIR) / "fixtures" / "usage_sample.xlsx"


@pytest.fixture
def series_l():
    return DeviceSeriesFactory(code="L")


def record(**kw):
    return {
        "company_id": 15,
        "series": "L",
        "shot_date": "2025-10-16",
        "floors": 1,
        "shots": 1,
        "area": None,
        "source_ref": "SO100001",
    } | kw


def test_ingest_is_idempotent_by_source_ref(ops_user, series_l):
    CustomerFactory(company_id=15)
    records = [record(), record(source_ref="SO100002", floors=3, area="123.5")]
    first = usage_ingest(records=records, user=ops_user)
    again = usage_ingest(records=records, user=ops_user)
    assert (first.created, first.duplicates, first.errors) == (2, 0, [])
    assert (again.created, again.duplicates) == (0, 2)
    assert UsageRecord.objects.count() == 2


def test_ingest_reports_errors_per_record(ops_user, series_l):
    CustomerFactory(company_id=15)
    result = usage_ingest(
        records=[
            record(source_ref="A"),
            record(source_ref="B", shot_date="2025-02-30", floors=0),
            record(source_ref="C", series="Q"),
            record(source_ref="A"),
        ],
        user=ops_user,
    )
    assert result.created == 1
    assert result.duplicates == 1
    assert [(e["index"], e["field"]) for e in result.errors] == [
        (1, "shot_date"),
        (1, "floors"),
        (2, "series"),
    ]
    assert "设备系列“Q”不存在" in result.errors[2]["message"]


def test_sales_cannot_ingest(sales_user, series_l):
    CustomerFactory(company_id=15, sales_owner=sales_user)
    with pytest.raises(PermissionDenied):
        usage_ingest(records=[record()], user=sales_user)


def test_atomic_ingest_stores_nothing_on_error(ops_user, series_l):
    CustomerFactory(company_id=15)
    result = usage_ingest(
        records=[record(), record(source_ref="X", shots=0)], user=ops_user, atomic=True
    )
    assert result.created == 0
    assert result.errors[0]["field"] == "shots"
    assert not UsageRecord.objects.exists()


def test_ingest_refuses_customers_out_of_scope(ops_user, series_l):
    CustomerFactory(company_id=15)
    CustomerFactory(company_id=16, is_deleted=True)
    result = usage_ingest(records=[record(), record(company_id=16, source_ref="B")], user=ops_user)
    assert result.created == 1
    assert result.errors == [
        {"index": 1, "field": "company_id", "message": "公司id 16 不存在或不在您的数据范围内"}
    ]


def test_ingest_queries_do_not_grow_with_records(ops_user, series_l):
    for company_id in range(1, 41):
        CustomerFactory(company_id=company_id)
    few = [record(company_id=i, source_ref=f"F{i}") for i in range(1, 3)]
    many = [record(company_id=i, source_ref=f"M{i}") for i in range(1, 41)]
    with CaptureQueriesContext(connection) as small:
        usage_ingest(records=few, user=ops_user)
    with CaptureQueriesContext(connection) as large:
        usage_ingest(records=many, user=ops_user)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_reference_stored_meanwhile_by_another_sender_counts_as_duplicate(
    ops_user, series_l, monkeypatch
):
    # Given a client retrying after a timeout: its first request stores B after this one
    # looked up the known references, just before this one inserts.
    from billing.usage import services as usage

    customer = CustomerFactory(company_id=15)
    insert = usage._insert_unnest

    def racing_insert(rows):
        UsageRecordFactory(customer=customer, series=series_l, source_ref="B")
        return insert(rows)

    monkeypatch.setattr(usage, "_insert_unnest", racing_insert)

    result = usage_ingest(records=[record(source_ref="A"), record(source_ref="B")], user=ops_user)

    assert (result.created, result.duplicates, result.errors) == (1, 1, [])
    assert UsageRecord.objects.count() == 2


def test_wide_sheet_gets_deterministic_refs():
    with SAMPLE.open("rb") as fh:
        parsed = read_usage_workbook(fh, kind="wide", series="L", year=2025)
    first = parsed.records[0]
    assert first == {
        "company_id": 15,
        "series": "L",
        "shot_date": date(2025, 2, 1),
        "floors": 1,
        "shots": 1,
        "source_ref": "WIDE-L-2025-02-15",
        "note": "分月汇总导入（按单层计）",
    }
    assert len({r["source_ref"] for r in parsed.records}) == len(parsed.records)


def test_import_usage_command_long_sheet_twice(series_l, admin_user, capsys):
    with SAMPLE.open("rb") as fh:
        company_ids = {
            r["company_id"] for r in read_usage_workbook(fh, kind="long", series="L").records
        }
    for company_id in company_ids:
        CustomerFactory(company_id=company_id)
    call_command("import_usage", str(SAMPLE), "--series", "L")
    out = capsys.readouterr().out
    assert "created=3231 duplicates=0 errors=0" in out
    call_command("import_usage", str(SAMPLE), "--series", "L")
    assert "created=0 duplicates=3231" in capsys.readouterr().out
    assert UsageRecord.objects.count() == 3231


def test_import_usage_command_wide_sheet_is_atomic(series_l, admin_user, capsys):
    CustomerFactory(company_id=15)  # the other ids of the sheet are unknown: nothing imported
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_usage", str(SAMPLE), "--series", "L", "--year", "2025")
    assert "公司id 28 不存在" in capsys.readouterr().err
    assert not UsageRecord.objects.exists()
