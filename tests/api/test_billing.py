"""Bills, bill generation as a job, payments and allocations through the API."""

from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Job
from billing.models import Bill, Payment, PricePlan
from tests.factories import (
    ApiBillFactory,
    ApiPaymentFactory,
    ApiPricePlanFactory,
    CustomerFactory,
    DeviceSeriesFactory,
)

pytestmark = pytest.mark.django_db


def test_bill_detail_has_lines_allocations_and_balance(client_for, ops_user, world):
    bill = world["mine"]["bill"]

    body = client_for(ops_user).get(f"/api/bills/{bill.pk}/").json()

    assert body["number"] == bill.number
    assert body["period"] == "2025-10"
    assert (body["total"], body["amount_paid"], body["balance"]) == ("1000.00", "100.00", "900.00")
    assert body["lines"] == []
    assert [a["amount"] for a in body["allocations"]] == ["100.00"]


def test_bills_filter_by_period_and_status(client_for, ops_user):
    customer = CustomerFactory()
    ApiBillFactory(customer=customer)
    ApiBillFactory(customer=customer, period=date(2025, 9, 1), status=Bill.Status.PAID)

    response = client_for(ops_user).get("/api/bills/", {"period": "2025-09-01", "status": "paid"})

    assert response.json()["count"] == 1


def test_generate_starts_a_job_that_can_be_polled(
    client_for, ops_user, django_capture_on_commit_callbacks
):
    client = client_for(ops_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/bills/generate/", {"period": "2025-10"}, format="json")

    job = response.json()
    assert response.status_code == 202
    assert job["params"]["period"] == "2025-10-01"
    polled = client.get(f"/api/jobs/{job['id']}/").json()
    assert polled["status"] == Job.Status.SUCCEEDED
    assert polled["percent"] == 100


def test_generate_refuses_a_bad_month(client_for, ops_user):
    response = client_for(ops_user).post(
        "/api/bills/generate/", {"period": "2025-13"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"]["period"] == ["账期应为 YYYY-MM 格式，例如 2025-10"]


def test_generate_refuses_unknown_customer_ids(client_for, ops_user):
    response = client_for(ops_user).post(
        "/api/bills/generate/", {"period": "2025-10", "customer_ids": [987654]}, format="json"
    )

    assert response.status_code == 400
    assert "987654" in response.json()["fields"]["customer_ids"][0]


def test_jobs_of_others_are_404(client_for, ops_user, sales_user):
    from tests.factories import JobFactory

    job = JobFactory(created_by=sales_user)

    assert client_for(ops_user).get(f"/api/jobs/{job.pk}/").status_code == 404


def test_payment_create_and_idempotent_retry(client_for, ops_user):
    customer = CustomerFactory()
    body = {"customer": customer.pk, "amount": "500.00", "received_on": "2025-11-20"}
    client = client_for(ops_user)

    first = client.post("/api/payments/create/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = client.post("/api/payments/create/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert Payment.objects.count() == 1


def test_payment_for_a_customer_out_of_scope_is_a_field_error(client_for, ops_user):
    customer = CustomerFactory(is_deleted=True)

    response = client_for(ops_user).post(
        "/api/payments/create/",
        {"customer": customer.pk, "amount": "1.00", "received_on": "2025-11-20"},
        format="json",
    )

    assert response.status_code == 400
    assert "customer" in response.json()["fields"]


def test_duplicate_bank_reference_is_refused(client_for, ops_user):
    payment = ApiPaymentFactory(bank_ref="CMB1")
    body = {
        "customer": payment.customer.pk,
        "amount": "1.00",
        "received_on": "2025-11-20",
        "bank_ref": "CMB1",
    }

    response = client_for(ops_user).post("/api/payments/create/", body, format="json")

    assert response.status_code == 400
    (message,) = response.json()["fields"]["bank_ref"]
    assert f"已登记过（收款 #{payment.pk}" in message


def test_allocate_then_undo(client_for, ops_user):
    customer = CustomerFactory()
    bill = ApiBillFactory(customer=customer)
    payment = ApiPaymentFactory(customer=customer, amount=Decimal("300.00"))
    client = client_for(ops_user)

    made = client.post(
        f"/api/payments/{payment.pk}/allocate/",
        {"allocations": [{"bill": bill.pk, "amount": "300.00"}]},
        format="json",
    )
    allocation_id = made.json()[0]["id"]
    undone = client.post(
        f"/api/allocations/{allocation_id}/undo/", {"reason": "错账"}, format="json"
    )

    bill.refresh_from_db()
    assert made.status_code == 201
    assert undone.json()["is_active"] is False
    assert bill.amount_paid == Decimal("0.00")


def test_allocating_more_than_the_payment_is_refused(client_for, ops_user):
    customer = CustomerFactory()
    bill = ApiBillFactory(customer=customer)
    payment = ApiPaymentFactory(customer=customer, amount=Decimal("100.00"))

    response = client_for(ops_user).post(
        f"/api/payments/{payment.pk}/allocate/",
        {"allocations": [{"bill": bill.pk, "amount": "150.00"}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_allocating_to_a_bill_that_does_not_exist_is_refused(client_for, ops_user):
    payment = ApiPaymentFactory()

    response = client_for(ops_user).post(
        f"/api/payments/{payment.pk}/allocate/",
        {"allocations": [{"bill": 424242, "amount": "1.00"}]},
        format="json",
    )

    assert response.status_code == 400
    assert "424242" in response.json()["fields"]["allocations"][0]


def test_allocate_oldest_first_fills_the_earliest_bill(client_for, ops_user):
    customer = CustomerFactory()
    older = ApiBillFactory(customer=customer, period=date(2025, 9, 1), number="BILL-202509-X")
    ApiBillFactory(customer=customer, period=date(2025, 10, 1))
    payment = ApiPaymentFactory(customer=customer, amount=Decimal("1000.00"))

    response = client_for(ops_user).post(f"/api/payments/{payment.pk}/allocate-oldest/")

    assert [a["bill"] for a in response.json()] == [older.pk]


# --- price plans ----------------------------------------------------------------


def test_plan_create_numbers_the_version_and_answers_the_plan(client_for, ops_user):
    customer = CustomerFactory()
    DeviceSeriesFactory(code="L")
    body = {
        "customer": customer.pk,
        "series": "L",
        "kind": "per_shoot",
        "valid_from": "2025-07-01",
        "single_price": "12.50",
        "multi_rule": "incremental",
        "multi_base": "14.00",
        "multi_step": "10.00",
    }

    response = client_for(ops_user).post("/api/price-plans/create/", body, format="json")

    assert response.status_code == 201
    plan = PricePlan.objects.get(pk=response.json()["id"])
    assert (plan.customer, plan.series.code, plan.version) == (customer, "L", 1)
    assert (plan.single_price, plan.multi_step) == (Decimal("12.50"), Decimal("10.00"))
    assert response.json()["series_code"] == "L"


def test_plan_create_stores_bands_and_reports_the_services_rules(client_for, ops_user):
    customer = CustomerFactory()
    DeviceSeriesFactory(code="X")
    client = client_for(ops_user)
    tiered = {"customer": customer.pk, "series": "X", "kind": "tiered", "valid_from": "2025-01-01"}

    open_middle = client.post(
        "/api/price-plans/create/",
        {**tiered, "bands_shared": [{"up_to": None, "price": "8"}, {"up_to": 5, "price": "7"}]},
        format="json",
    )
    good = client.post(
        "/api/price-plans/create/",
        {**tiered, "bands_shared": [{"up_to": 100, "price": "10"}, {"price": "8.5"}]},
        format="json",
    )

    assert open_middle.status_code == 400
    assert "只有最后一档可以不设上限" in open_middle.json()["fields"]["bands_shared"][0]
    assert good.status_code == 201
    assert PricePlan.objects.get().bands_shared == [
        {"up_to": 100, "price": "10.00"},
        {"up_to": None, "price": "8.50"},
    ]


@pytest.mark.parametrize(
    "bands", [["x"], [{"up_to": "many", "price": "1"}], [{"up_to": 1}], "bands"]
)
def test_malformed_bands_are_field_errors(client_for, ops_user, bands):
    customer = CustomerFactory()
    DeviceSeriesFactory(code="X")
    body = {"customer": customer.pk, "series": "X", "kind": "tiered", "bands_shared": bands}

    response = client_for(ops_user).post("/api/price-plans/create/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["bands_shared"]


def test_overlapping_plans_are_refused_on_valid_from(client_for, ops_user):
    plan = ApiPricePlanFactory()
    body = {
        "customer": plan.customer.pk,
        "series": plan.series.code,
        "kind": "per_shoot",
        "valid_from": "2025-06-01",
        "single_price": "9.00",
    }

    response = client_for(ops_user).post("/api/price-plans/create/", body, format="json")

    assert response.status_code == 400
    assert "日期重叠" in response.json()["fields"]["valid_from"][0]


def test_plan_update_changes_only_the_given_terms(client_for, ops_user):
    plan = ApiPricePlanFactory()

    response = client_for(ops_user).patch(
        f"/api/price-plans/{plan.pk}/update/", {"single_price": "11.00"}, format="json"
    )

    plan.refresh_from_db()
    assert response.status_code == 200
    assert (plan.single_price, plan.valid_from, plan.version) == (
        Decimal("11.00"),
        date(2025, 1, 1),
        plan.version,
    )


def test_a_locked_plan_cannot_be_updated_but_gets_a_new_version(client_for, ops_user):
    plan = ApiPricePlanFactory(is_locked=True)
    client = client_for(ops_user)

    refused = client.patch(
        f"/api/price-plans/{plan.pk}/update/", {"single_price": "11.00"}, format="json"
    )
    new = client.post(
        f"/api/price-plans/{plan.pk}/new-version/",
        {"valid_from": "2026-01-01", "single_price": "13.00"},
        format="json",
    )

    assert refused.status_code == 400
    assert "请新建版本" in refused.json()["fields"]["non_field_errors"][0]
    assert new.status_code == 201
    body = new.json()
    assert (body["version"], body["supersedes"], body["valid_from"]) == (
        plan.version + 1,
        plan.pk,
        "2026-01-01",
    )
    assert (body["single_price"], body["kind"]) == ("13.00", "per_shoot")
    plan.refresh_from_db()
    assert (plan.valid_to, plan.single_price) == (date(2025, 12, 31), Decimal("12.50"))


def test_a_new_version_must_start_after_the_old_one(client_for, ops_user):
    plan = ApiPricePlanFactory()

    response = client_for(ops_user).post(
        f"/api/price-plans/{plan.pk}/new-version/", {"valid_from": "2024-12-01"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["valid_from"]
    assert PricePlan.objects.count() == 1
