"""Permission matrix: roles x (list, detail, edit, batch, each section), out-of-scope answers 404."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from customers.models import Customer
from tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["admin", "ops", "owner", "manager", "lead", "outsider"]
# Expected outcome per role: edit = may change, read = sees but 403 on writes, 404 = out of scope.
ACCESS = {
    "admin": "edit",
    "ops": "edit",
    "owner": "edit",
    "manager": "read",
    "lead": "edit",  # a sales team lead edits the customers of the team (issue 15)
    "outsider": "404",
}

SECTION_DATA = {
    "contacts": {"name": "新联系人", "phone": "13900139000"},
    "competitors": {"company": "如视"},
    "attention": {"category": "risk", "priority": "high", "text": "付款慢"},
    "issues": {
        "occurred_on": "2025-10-01",
        "category": "服务问题",
        "description": "延迟交付",
        "status": "open",
    },
    "renewals": {
        "kind": "renewal",
        "amount": "1000.00",
        "period_months": "12",
        "expires_on": "2026-12-31",
        "status": "pending",
        "remind_days_before": "30",
    },
    "followups": {"body": "电话回访"},
}


@pytest.fixture
def world(admin_user, manager_user, ops_user, sales_user):
    team = TeamFactory()
    lead = UserFactory(role=Role.SALES, username="lead1", team=team)
    team.lead = lead
    team.save()
    sales_user.team = team
    sales_user.save()
    outsider = UserFactory(role=Role.SALES, username="outsider1")
    customer = CustomerFactory(sales_owner=sales_user, level="C", lifecycle_status="active")
    contact = ContactFactory(customer=customer, is_primary=True)
    users = {
        "admin": admin_user,
        "ops": ops_user,
        "owner": sales_user,
        "manager": manager_user,
        "lead": lead,
        "outsider": outsider,
    }
    return {"users": users, "customer": customer, "contact": contact}


def as_(client, world, role):
    client.force_login(world["users"][role])
    return client


def expected(role, ok=200):
    return {"edit": ok, "read": 403, "404": 404}[ACCESS[role]]


@pytest.mark.parametrize("role", ROLES)
def test_list(client, world, role):
    response = as_(client, world, role).get(reverse("customers:customer-list"))

    assert response.status_code == 200
    assert (world["customer"].name in response.content.decode()) == (role != "outsider")


@pytest.mark.parametrize("role", ROLES)
def test_detail(client, world, role):
    response = as_(client, world, role).get(
        reverse("customers:customer-detail", args=[world["customer"].pk])
    )

    assert response.status_code == (404 if role == "outsider" else 200)
    if response.status_code == 200:
        assert ("edit-basic" in response.content.decode()) == (ACCESS[role] == "edit")


@pytest.mark.parametrize("role", ROLES)
def test_edit_basic(client, world, role):
    customer = world["customer"]
    url = reverse("customers:customer-edit", args=[customer.pk])
    client = as_(client, world, role)

    assert client.get(url, HTTP_HX_REQUEST="true").status_code == expected(role)
    response = client.post(
        url,
        {
            "company_id": customer.company_id,
            "name": "改名后",
            "payment_terms_days": 30,
            "disabled": "unknown",
        },
    )

    assert response.status_code == expected(role, ok=302)
    customer.refresh_from_db()
    assert (customer.name == "改名后") == (ACCESS[role] == "edit")


@pytest.mark.parametrize("section", list(SECTION_DATA))
@pytest.mark.parametrize("role", ROLES)
def test_each_section_add(client, world, role, section):
    customer = world["customer"]
    url = reverse("customers:customer-section-new", args=[customer.pk, section])
    client = as_(client, world, role)
    related = {
        "attention": "attention_items",
        "issues": "quality_issues",
        "followups": "follow_ups",
    }.get(section, section)
    before = getattr(customer, related).count()

    assert client.get(url, HTTP_HX_REQUEST="true").status_code == expected(role)
    response = client.post(url, SECTION_DATA[section], HTTP_HX_REQUEST="true")

    assert response.status_code == expected(role)
    assert getattr(customer, related).count() == before + (1 if ACCESS[role] == "edit" else 0)
    assert client.get(
        reverse("customers:customer-section", args=[customer.pk, section]), HTTP_HX_REQUEST="true"
    ).status_code == (404 if role == "outsider" else 200)


@pytest.mark.parametrize("role", ROLES)
def test_section_edit_and_delete(client, world, role):
    customer, contact = world["customer"], world["contact"]
    client = as_(client, world, role)
    edit = reverse("customers:customer-section-edit", args=[customer.pk, "contacts", contact.pk])
    delete = reverse(
        "customers:customer-section-delete", args=[customer.pk, "contacts", contact.pk]
    )

    assert client.post(
        edit, {"name": "改", "phone": "13700137000", "is_primary": "on"}, HTTP_HX_REQUEST="true"
    ).status_code == expected(role)
    assert client.post(delete, HTTP_HX_REQUEST="true").status_code == expected(role)
    assert customer.contacts.exists() == (ACCESS[role] != "edit")


@pytest.mark.parametrize("role", ROLES)
def test_cooperation_status_grade_tags(client, world, role):
    customer = world["customer"]
    client = as_(client, world, role)
    pk = customer.pk

    assert client.post(
        reverse("customers:customer-cooperation", args=[pk]),
        {"mode": "年框"},
        HTTP_HX_REQUEST="true",
    ).status_code == expected(role)
    assert client.post(
        reverse("customers:customer-status", args=[pk]), {"to_status": "dormant", "reason": "x"}
    ).status_code == expected(role, 302)
    assert client.post(
        reverse("customers:customer-grade", args=[pk]), {"level": "S"}
    ).status_code == expected(role, 302)
    assert client.post(
        reverse("customers:customer-tag-add", args=[pk]), {"name": "重点"}, HTTP_HX_REQUEST="true"
    ).status_code == expected(role)

    customer.refresh_from_db()
    changed = ACCESS[role] == "edit"
    assert (customer.lifecycle_status == "dormant") == changed
    assert (customer.level == "S") == changed
    assert customer.tags.exists() == changed


@pytest.mark.parametrize("role", ROLES)
def test_batch(client, world, role):
    customer = world["customer"]

    response = as_(client, world, role).post(
        reverse("customers:customer-batch"),
        {"action": "grade", "level": "A", "apply_to": "selected", "ids": [customer.pk]},
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.level == "A") == (ACCESS[role] == "edit")


@pytest.mark.parametrize("role", ROLES)
def test_soft_delete_admin_only(client, world, role):
    customer = world["customer"]

    response = as_(client, world, role).post(
        reverse("customers:customer-delete", args=[customer.pk])
    )

    assert response.status_code == {"admin": 302, "outsider": 404}.get(role, 403)
    assert Customer.objects.get(pk=customer.pk).is_deleted == (role == "admin")


def test_every_customer_url_answers_404_out_of_scope(client, world):
    """Contract: each detail and edit URL of a customer, requested by an out-of-scope user."""
    customer, contact = world["customer"], world["contact"]
    tag = customer.tags.create(name="t")
    pk = customer.pk
    client.force_login(world["users"]["outsider"])
    urls = [
        reverse("customers:customer-detail", args=[pk]),
        reverse("customers:customer-basic", args=[pk]),
        reverse("customers:customer-edit", args=[pk]),
        reverse("customers:customer-cooperation", args=[pk]),
        reverse("customers:customer-status", args=[pk]),
        reverse("customers:customer-grade", args=[pk]),
        reverse("customers:customer-delete", args=[pk]),
        reverse("customers:customer-tag-add", args=[pk]),
        reverse("customers:customer-tag-remove", args=[pk, tag.pk]),
        *[reverse("customers:customer-section", args=[pk, s]) for s in SECTION_DATA],
        *[reverse("customers:customer-section-new", args=[pk, s]) for s in SECTION_DATA],
        reverse("customers:customer-section-edit", args=[pk, "contacts", contact.pk]),
        reverse("customers:customer-section-delete", args=[pk, "contacts", contact.pk]),
    ]
    for url in urls:
        assert client.get(url, HTTP_HX_REQUEST="true").status_code in (404, 405), url
        assert client.post(url, {}, HTTP_HX_REQUEST="true").status_code == 404, url


def test_deleted_customer_answers_404_even_to_admin(client, world):
    customer = world["customer"]
    customer.is_deleted = True
    customer.save()
    client.force_login(world["users"]["admin"])

    assert client.get(reverse("customers:customer-detail", args=[customer.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(reverse("customers:customer-detail", args=[world["customer"].pk]))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
