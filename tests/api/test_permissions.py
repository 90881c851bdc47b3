"""The permission matrix: roles × endpoints, and out-of-scope ids answering 404."""

import pytest

pytestmark = pytest.mark.django_db

ROLES = ["admin_user", "manager_user", "ops_user", "sales_user"]


@pytest.fixture
def as_role(request, client_for):
    def _as(role_fixture):
        return client_for(request.getfixturevalue(role_fixture))

    return _as


LISTS = [
    "/api/customers/",
    "/api/price-plans/",
    "/api/usage/",
    "/api/bills/",
    "/api/payments/",
    "/api/jobs/",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", LISTS)
def test_every_role_reads_the_lists(as_role, world, role, url):
    assert as_role(role).get(url).status_code == 200


@pytest.mark.parametrize("url", LISTS)
def test_lists_need_a_token(api_client, url):
    response = api_client.get(url)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "url,ids",
    [
        ("/api/customers/", lambda w: {w["mine"]["customer"].pk}),
        ("/api/price-plans/", lambda w: {w["mine"]["plan"].pk}),
        ("/api/usage/", lambda w: {w["mine"]["usage"].pk}),
        ("/api/bills/", lambda w: {w["mine"]["bill"].pk}),
        ("/api/payments/", lambda w: {w["mine"]["payment"].pk}),
    ],
)
def test_sales_lists_hold_only_their_own_customers_rows(client_for, sales_user, world, url, ids):
    response = client_for(sales_user).get(url)

    assert {row["id"] for row in response.json()["results"]} == ids(world)


def test_ops_lists_hold_everyone(client_for, ops_user, world):
    response = client_for(ops_user).get("/api/bills/")

    assert response.json()["count"] == 2


DETAILS = [
    ("customer", "/api/customers/{}/"),
    ("customer", "/api/customers/{}/contacts/"),
    ("customer", "/api/customers/{}/projects/"),
    ("customer", "/api/customers/{}/ad-accounts/"),
    ("customer", "/api/customers/{}/profile/"),
    ("plan", "/api/price-plans/{}/"),
    ("bill", "/api/bills/{}/"),
    ("payment", "/api/payments/{}/"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key,url", DETAILS)
def test_every_role_reads_details_in_scope(as_role, world, role, key, url):
    assert as_role(role).get(url.format(world["mine"][key].pk)).status_code == 200


# Every detail, edit and action URL requested for a customer outside the caller's scope.
OUT_OF_SCOPE = [
    ("get", "customer", "/api/customers/{}/", None),
    ("get", "customer", "/api/customers/{}/contacts/", None),
    ("patch", "customer", "/api/customers/{}/update/", {"remarks": "x"}),
    ("get", "plan", "/api/price-plans/{}/", None),
    ("get", "bill", "/api/bills/{}/", None),
    ("get", "payment", "/api/payments/{}/", None),
    ("get", "job", "/api/jobs/{}/", None),
    (
        "post",
        "customer",
        "/api/customers/{}/contacts/create/",
        {"name": "李", "phone": "13800138000"},
    ),
    ("patch", "contact", "/api/contacts/{}/update/", {"position": "经理"}),
    ("delete", "contact", "/api/contacts/{}/delete/", None),
    # issue 18: projects, ad accounts and the profile sections
    ("get", "customer", "/api/customers/{}/projects/", None),
    ("get", "customer", "/api/customers/{}/ad-accounts/", None),
    ("get", "customer", "/api/customers/{}/profile/", None),
    (
        "post",
        "customer",
        "/api/customers/{}/projects/create/",
        {"name": "年度拍摄", "kind": "shooting"},
    ),
    (
        "post",
        "customer",
        "/api/customers/{}/ad-accounts/create/",
        {"platform": "google", "account_id": "1-2-3"},
    ),
]


@pytest.mark.parametrize("method,key,url,body", OUT_OF_SCOPE)
def test_out_of_scope_ids_answer_404(client_for, other_sales_user, world, method, key, url, body):
    client = client_for(other_sales_user)

    response = getattr(client, method)(url.format(world["mine"][key].pk), body, format="json")

    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "对象不存在或不在您的数据范围内",
        "fields": {},
    }


def _writes(world):
    mine = world["mine"]
    return {
        "customer-create": (
            "post",
            "/api/customers/create/",
            {"company_id": 990001, "name": "新客户有限公司"},
        ),
        "customer-update": (
            "patch",
            f"/api/customers/{mine['customer'].pk}/update/",
            {"remarks": "改了备注"},
        ),
        "usage-ingest": (
            "post",
            "/api/usage/ingest/",
            {
                "records": [
                    {
                        "company_id": mine["customer"].company_id,
                        "series": "L",
                        "shot_date": "2025-10-16",
                        "source_ref": "SO-MATRIX",
                    }
                ]
            },
        ),
        "bill-generate": ("post", "/api/bills/generate/", {"period": "2025-10"}),
        "plan-create": (
            "post",
            "/api/price-plans/create/",
            {
                "customer": mine["customer"].pk,
                "series": "X",
                "kind": "per_shoot",
                "single_price": "9.00",
            },
        ),
        "plan-update": (
            "patch",
            f"/api/price-plans/{mine['plan'].pk}/update/",
            {"single_price": "11.00"},
        ),
        "plan-new-version": (
            "post",
            f"/api/price-plans/{mine['plan'].pk}/new-version/",
            {"valid_from": "2026-01-01", "single_price": "13.00"},
        ),
        "contact-create": (
            "post",
            f"/api/customers/{mine['customer'].pk}/contacts/create/",
            {"name": "周敏", "phone": "13900139000"},
        ),
        "contact-update": (
            "patch",
            f"/api/contacts/{mine['contact'].pk}/update/",
            {"position": "财务"},
        ),
        "contact-delete": ("delete", f"/api/contacts/{mine['contact'].pk}/delete/", None),
        "project-create": (
            "post",
            f"/api/customers/{mine['customer'].pk}/projects/create/",
            {"name": "年度拍摄", "kind": "shooting", "start_on": "2026-01-05"},
        ),
        "adaccount-create": (
            "post",
            f"/api/customers/{mine['customer'].pk}/ad-accounts/create/",
            {"platform": "google", "account_id": "123-456", "monthly_spend": "800.00"},
        ),
        "payment-create": (
            "post",
            "/api/payments/create/",
            {"customer": mine["customer"].pk, "amount": "50.00", "received_on": "2025-11-21"},
        ),
        "payment-allocate": (
            "post",
            f"/api/payments/{mine['payment'].pk}/allocate/",
            {"allocations": [{"bill": mine["bill"].pk, "amount": "10.00"}]},
        ),
        "payment-allocate-oldest": (
            "post",
            f"/api/payments/{mine['payment'].pk}/allocate-oldest/",
            {},
        ),
        "allocation-undo": (
            "post",
            f"/api/allocations/{mine['allocation'].pk}/undo/",
            {"reason": "核销错了"},
        ),
    }


# role → status per write endpoint; 403 = forbidden by role, 2xx = done.
MATRIX = {
    "customer-create": {"admin_user": 201, "manager_user": 403, "ops_user": 201, "sales_user": 201},
    "customer-update": {"admin_user": 200, "manager_user": 403, "ops_user": 200, "sales_user": 200},
    "usage-ingest": {"admin_user": 200, "manager_user": 403, "ops_user": 200, "sales_user": 403},
    "bill-generate": {"admin_user": 202, "manager_user": 403, "ops_user": 202, "sales_user": 403},
    "plan-create": {"admin_user": 201, "manager_user": 403, "ops_user": 201, "sales_user": 403},
    "plan-update": {"admin_user": 200, "manager_user": 403, "ops_user": 200, "sales_user": 403},
    "plan-new-version": {
        "admin_user": 201,
        "manager_user": 403,
        "ops_user": 201,
        "sales_user": 403,
    },
    # Contacts follow the customer edit rule: sales edit the customers they own.
    "contact-create": {"admin_user": 201, "manager_user": 403, "ops_user": 201, "sales_user": 201},
    "contact-update": {"admin_user": 200, "manager_user": 403, "ops_user": 200, "sales_user": 200},
    "contact-delete": {"admin_user": 204, "manager_user": 403, "ops_user": 204, "sales_user": 204},
    # issue 18: projects and ad accounts follow the same customer edit rule.
    "project-create": {"admin_user": 201, "manager_user": 403, "ops_user": 201, "sales_user": 201},
    "adaccount-create": {
        "admin_user": 201,
        "manager_user": 403,
        "ops_user": 201,
        "sales_user": 201,
    },
    "payment-create": {"admin_user": 201, "manager_user": 403, "ops_user": 201, "sales_user": 403},
    "payment-allocate": {
        "admin_user": 201,
        "manager_user": 403,
        "ops_user": 201,
        "sales_user": 403,
    },
    "payment-allocate-oldest": {
        "admin_user": 201,
        "manager_user": 403,
        "ops_user": 201,
        "sales_user": 403,
    },
    "allocation-undo": {"admin_user": 200, "manager_user": 403, "ops_user": 200, "sales_user": 403},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_write_permission_matrix(
    as_role, world, role, endpoint, django_capture_on_commit_callbacks
):
    from tests.factories import DeviceSeriesFactory

    DeviceSeriesFactory(code="L")
    DeviceSeriesFactory(code="X")
    method, url, body = _writes(world)[endpoint]

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(as_role(role), method)(url, body, format="json")

    assert response.status_code == MATRIX[endpoint][role], response.content
    if response.status_code == 403:
        assert response.json()["code"] == "permission_denied"


def test_a_team_lead_edits_the_customers_of_the_team(client_for, world):
    # issue 15: a sales team lead edits the team's customers (before, they could only see them)
    from accounts.services import team_create
    from tests.factories import UserFactory

    lead = UserFactory(username="lead1", role="sales")
    team_create(name="华东组", lead=lead, members=[world["theirs"]["customer"].sales_owner])
    customer = world["theirs"]["customer"]

    seen = client_for(lead).get(f"/api/customers/{customer.pk}/")
    edited = client_for(lead).patch(
        f"/api/customers/{customer.pk}/update/", {"remarks": "x"}, format="json"
    )

    assert seen.status_code == 200
    assert edited.status_code == 200
    customer.refresh_from_db()
    assert customer.remarks == "x"


# Plan writes are ops/admin only, and their scope is every live customer: a plan of a
# soft-deleted customer is outside it.
PLAN_WRITES = [
    ("patch", "/api/price-plans/{}/update/", {"single_price": "11.00"}),
    ("post", "/api/price-plans/{}/new-version/", {"valid_from": "2026-01-01"}),
]


@pytest.mark.parametrize("method,url,body", PLAN_WRITES)
def test_plan_writes_outside_scope_answer_404(
    client_for, admin_user, ops_user, world, method, url, body
):
    from customers.services import customer_soft_delete
    from tests import factories

    # a customer with no money open (one with a balance cannot be deleted)
    plan = factories.ApiPricePlanFactory(customer=factories.CustomerFactory())
    customer_soft_delete(user=admin_user, customer=plan.customer)

    response = getattr(client_for(ops_user), method)(url.format(plan.pk), body, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_plan_for_a_customer_outside_scope_is_a_field_error(
    client_for, admin_user, ops_user, world
):
    from customers.services import customer_soft_delete
    from tests.factories import CustomerFactory, DeviceSeriesFactory

    DeviceSeriesFactory(code="X")
    customer = CustomerFactory()  # no money open: it may be deleted
    customer_soft_delete(user=admin_user, customer=customer)
    body = {"customer": customer.pk, "series": "X", "kind": "per_shoot", "single_price": "9"}

    response = client_for(ops_user).post("/api/price-plans/create/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["customer"]
