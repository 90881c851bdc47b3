"""Bulk usage ingest through the API: idempotency, per-record errors, atomic, limits, scope.

These assert the usage_ingest contract (issue 5) as seen through the API, so
they validate the owner's implementation after merge.
"""

import pytest

from billing.models import UsageRecord
from tests.factories import CustomerFactory, DeviceSeriesFactory

pytestmark = pytest.mark.django_db

INGEST = "/api/usage/ingest/"


@pytest.fixture
def customer(sales_user):
    DeviceSeriesFactory(code="L")
    DeviceSeriesFactory(code="X")
    return CustomerFactory(company_id=100231, sales_owner=sales_user)


def record(n, **overrides):
    return {
        "company_id": 100231,
        "series": "L",
        "shot_date": "2025-10-16",
        "floors": 1,
        "shots": 1,
        "area": None,
        "source_ref": f"SO{n:06d}",
        **overrides,
    }


def test_ingest_creates_the_records(client_for, ops_user, customer):
    response = client_for(ops_user).post(
        INGEST, {"records": [record(1), record(2, floors=3, shots=2)]}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"created": 2, "duplicates": 0, "errors": []}
    saved = UsageRecord.objects.get(source_ref="SO000002")
    assert (saved.customer, saved.series.code, saved.floors, saved.shots) == (customer, "L", 3, 2)
    assert saved.source == UsageRecord.Source.API


def test_resending_the_same_batch_creates_nothing(client_for, ops_user, customer):
    batch = {"records": [record(n) for n in range(50)]}
    client = client_for(ops_user)
    client.post(INGEST, batch, format="json")

    again = client.post(INGEST, batch, format="json")

    assert again.status_code == 200
    assert again.json() == {"created": 0, "duplicates": 50, "errors": []}
    assert UsageRecord.objects.count() == 50


def test_a_reference_repeated_inside_one_batch_counts_once(client_for, ops_user, customer):
    response = client_for(ops_user).post(INGEST, {"records": [record(1), record(1)]}, format="json")

    assert response.json()["created"] == 1
    assert UsageRecord.objects.count() == 1


def test_partial_errors_are_reported_per_record_and_the_valid_ones_kept(
    client_for, ops_user, customer
):
    records = [
        record(1),
        record(2, floors=0),
        record(3, company_id=999999),
        record(4, series="Q"),
        record(5, shot_date="2025-13-40"),
        record(6),
    ]

    response = client_for(ops_user).post(INGEST, {"records": records}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert body["created"] == 2
    assert {(e["index"], e["field"]) for e in body["errors"]} == {
        (1, "floors"),
        (2, "company_id"),
        (3, "series"),
        (4, "shot_date"),
    }
    assert all(e["message"] for e in body["errors"])
    assert set(UsageRecord.objects.values_list("source_ref", flat=True)) == {"SO000001", "SO000006"}


def test_out_of_range_and_wrongly_typed_values_are_record_errors_not_crashes(
    client_for, ops_user, customer
):
    # A numeric string such as "100231" is accepted (as DRF's IntegerField does, and as
    # spreadsheet cells need); values no column can hold or of the wrong shape are not.
    records = [
        record(1, company_id=2**70),
        record(2, company_id=[100231]),
        record(3, floors="many"),
        record(4, area="lots"),
        record(5, shots=2**70),
        record(6, area="1e13"),
        record(7, company_id=100231.5),
    ]

    response = client_for(ops_user).post(INGEST, {"records": records}, format="json")

    assert response.status_code == 200
    assert response.json()["created"] == 0
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [
        (0, "company_id"),
        (1, "company_id"),
        (2, "floors"),
        (3, "area"),
        (4, "shots"),
        (5, "area"),
        (6, "company_id"),
    ]


def test_atomic_rejects_the_whole_batch_on_one_error(client_for, ops_user, customer):
    records = [record(1), record(2, floors=0), record(3)]

    response = client_for(ops_user).post(
        f"{INGEST}?atomic=true", {"records": records}, format="json"
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid_records"
    assert "整批未导入" in body["message"]
    assert list(body["fields"]) == ["records[1].floors"]
    assert body["created"] == 0
    assert UsageRecord.objects.count() == 0


def test_atomic_batch_without_errors_is_created(client_for, ops_user, customer):
    response = client_for(ops_user).post(
        f"{INGEST}?atomic=true", {"records": [record(1), record(2)]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["created"] == 2


def test_customers_outside_the_callers_scope_are_errors(client_for, ops_user, customer):
    # Only ops and admin ingest, and their scope is every live customer: a deleted
    # customer is outside it, and answers exactly like an id that never existed.
    CustomerFactory(company_id=100232, is_deleted=True)
    records = [record(1), record(2, company_id=100232), record(3, company_id=999999)]

    response = client_for(ops_user).post(INGEST, {"records": records}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert body["created"] == 1
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "company_id"),
        (2, "company_id"),
    ]
    assert "不在您的数据范围内" in body["errors"][0]["message"]
    assert body["errors"][0]["message"].replace("100232", "999999") == body["errors"][1]["message"]
    assert list(UsageRecord.objects.values_list("source_ref", flat=True)) == ["SO000001"]


def test_more_than_10000_records_are_refused_before_ingest(client_for, ops_user, customer):
    records = [record(n) for n in range(10_001)]

    response = client_for(ops_user).post(INGEST, {"records": records}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"records": ["单次最多提交 10,000 条记录，请分批提交"]}
    assert UsageRecord.objects.count() == 0


@pytest.mark.parametrize(
    "body,message",
    [
        ({}, "该字段是必填项。"),
        ({"records": "SO1"}, "records 应为对象数组"),
        ({"records": []}, "records 不能为空"),
        ({"records": [1]}, "第 1 条不是对象"),
    ],
)
def test_malformed_envelopes_answer_400_with_the_field(client_for, ops_user, body, message):
    response = client_for(ops_user).post(INGEST, body, format="json")

    assert response.status_code == 400
    assert response.json()["fields"]["records"] == [message]


def test_sales_may_not_ingest(client_for, sales_user, customer):
    response = client_for(sales_user).post(INGEST, {"records": [record(1)]}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "没有权限执行此操作",
        "fields": {},
    }
    assert UsageRecord.objects.count() == 0


def test_ingest_is_bulk_not_a_query_per_record(
    client_for, ops_user, customer, django_assert_max_num_queries
):
    # Per-record work would be thousands of queries; batched inserts (SQLite splits them
    # by its parameter limit) stay far below one per record.
    client = client_for(ops_user)
    records = [record(n) for n in range(2_000)]

    with django_assert_max_num_queries(100):
        first = client.post(INGEST, {"records": records}, format="json")
    with django_assert_max_num_queries(25):
        again = client.post(INGEST, {"records": records}, format="json")

    assert first.json()["created"] == 2_000
    assert again.json()["duplicates"] == 2_000
