"""Issue 12: the outside review's findings 4, 6, 8 and 9, each reproduced, then refused."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "²"  # str.isdigit() is True, int() raises


# --- 6: hostile input answers 4xx or a page, never a 500 -------------------------------


@pytest.fixture
def quiet_client(ops_user):
    client = Client(raise_request_exception=False)
    client.force_login(ops_user)
    return client


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/customers/", {"q": SUPERSCRIPT_TWO}),
        ("/api/customers/", {"q": SUPERSCRIPT_TWO}),
        ("/billing/bills/", {"q": SUPERSCRIPT_TWO}),
        ("/billing/payments/", {"q": SUPERSCRIPT_TWO}),
        ("/customers/new/duplicates/", {"company_id": SUPERSCRIPT_TWO, "name": "x"}),
        ("/customers/export/", {"q": SUPERSCRIPT_TWO, "scope": "filter"}),
        ("/customers/new/", {"step": "abc"}),
        ("/customers/new/", {"step": SUPERSCRIPT_TWO}),
        ("/customers/", {"q": "客" * 100_000}),
        ("/billing/payments/", {"q": "a\x00b"}),
        ("/customers/new/duplicates/", {"name": "a\x00b"}),
    ],
)
def test_hostile_values_do_not_answer_500(quiet_client, path, params):
    factories.CustomerFactory(company_id=2)

    response = quiet_client.get(path, params)

    assert response.status_code < 500


def test_a_search_term_is_capped_to_100_characters(ops_user):
    from customers.selectors import SEARCH_MAX_CHARS, search_term

    assert len(search_term("客" * 100_000)) == SEARCH_MAX_CHARS == 100


def test_a_bad_host_header_answers_400_not_500(ops_user):
    client = Client(raise_request_exception=False)

    response = client.get("/customers/", HTTP_HOST="evil.example.com")

    assert response.status_code == 400


def test_deeply_nested_json_answers_400_in_the_error_format(client_for, ops_user):
    client = client_for(ops_user)
    body = "[" * 100_000 + "]" * 100_000

    response = client.post("/api/usage/ingest/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


# --- 8: oracles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/bills/", "/api/payments/", "/api/usage/", "/api/price-plans/"]
)
def test_customer_filter_answers_alike_for_out_of_scope_and_missing_ids(
    client_for, sales_user, other_sales_user, path
):
    # given a customer of another sales owner, and an id nobody has
    theirs = factories.CustomerFactory(sales_owner=other_sales_user)
    client = client_for(sales_user)
    # when sales filter by each
    out_of_scope = client.get(path, {"customer": theirs.pk})
    missing = client.get(path, {"customer": theirs.pk + 10_000})
    # then the two answers cannot be told apart
    assert out_of_scope.status_code == missing.status_code
    assert out_of_scope.json()["code"] == missing.json()["code"]
    assert str(theirs.pk) not in out_of_scope.content.decode()


def test_customer_filter_still_finds_own_customers(client_for, sales_user):
    mine = factories.CustomerFactory(sales_owner=sales_user)
    factories.ApiBillFactory(customer=mine)

    response = client_for(sales_user).get("/api/bills/", {"customer": mine.pk})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_tag_dropdown_lists_only_tags_on_customers_in_scope(client, sales_user, other_sales_user):
    # given a tag on my customer and a tag only on someone else's
    mine = factories.CustomerFactory(sales_owner=sales_user)
    theirs = factories.CustomerFactory(sales_owner=other_sales_user)
    mine.tags.add(factories.TagFactory(name="我的标签"))
    theirs.tags.add(factories.TagFactory(name="别人的秘密标签"))
    client.force_login(sales_user)
    # when I open the customer list
    html = client.get("/customers/").content.decode()
    # then only my tag is offered
    assert "我的标签" in html
    assert "别人的秘密标签" not in html


# --- 4: ops owners by ops and admin only, on every path ------------------------------------


def test_sales_cannot_set_ops_owners_through_the_api_update(client_for, sales_user, ops_user):
    mine = factories.CustomerFactory(sales_owner=sales_user)

    response = client_for(sales_user).patch(
        f"/api/customers/{mine.pk}/update/", {"ops_owners": [ops_user.pk]}, format="json"
    )

    assert response.status_code == 400
    assert "ops_owners" in response.json()["fields"]
    assert not mine.ops_owners.exists()


def test_sales_cannot_set_ops_owners_when_creating_through_the_api(
    client_for, sales_user, ops_user
):
    response = client_for(sales_user).post(
        "/api/customers/create/",
        {"company_id": 100777, "name": "带运营负责人", "ops_owners": [ops_user.pk]},
        format="json",
    )

    assert response.status_code == 400
    assert "ops_owners" in response.json()["fields"]


def test_ops_can_set_ops_owners_through_the_api(client_for, ops_user, sales_user):
    customer = factories.CustomerFactory(sales_owner=sales_user)

    response = client_for(ops_user).patch(
        f"/api/customers/{customer.pk}/update/", {"ops_owners": [ops_user.pk]}, format="json"
    )

    assert response.status_code == 200
    assert list(customer.ops_owners.all()) == [ops_user]


# --- 9: statement .xlsx text cells get the formula guard -------------------------------------


def test_statement_xlsx_writes_formula_like_text_as_literal_text(client, ops_user):
    from billing.payments.services import payment_record

    customer = factories.CustomerFactory()
    factories.issued_bill(user=ops_user, customer=customer, lines=["100.00"])
    import datetime as dt
    from decimal import Decimal

    payment_record(
        user=ops_user,
        customer=customer,
        amount=Decimal("10.00"),
        received_on=dt.date(2025, 10, 20),
        method="bank",
        bank_ref='=HYPERLINK("http://x")',
        payer="",
        note="",
        idempotency_key="k-formula",
    )
    client.force_login(ops_user)

    response = client.get(
        reverse("billing:statement-xlsx"),
        {"customer": customer.company_id, "start": "2025-10", "end": "2025-10"},
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == '=HYPERLINK("http://x")']
    assert cells, "the bank reference is missing from the statement"
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_receivables_xlsx_marks_formula_like_names_as_literal_text(client, manager_user):
    customer = factories.CustomerFactory(name="=HYPERLINK(1)")
    factories.ReportBillFactory(customer=customer, total="12.50")
    client.force_login(manager_user)

    response = client.get(reverse("reports:receivables-export"))

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    (cell,) = [c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)"]
    assert cell.quotePrefix


def test_a_nul_character_in_json_answers_400_not_500(client_for, ops_user):
    # PostgreSQL refuses NUL in text: found by schemathesis in a price plan's series code
    response = client_for(ops_user).post(
        "/api/price-plans/create/",
        '{"customer": 1, "series": "L\\u0000", "kind": "per_shoot"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
