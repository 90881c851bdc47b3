"""Customer endpoints: list with filters, create and update through the contracted services."""

import pytest

from customers.models import Customer
from tests.factories import ApiContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_list_is_paginated_and_filtered_by_the_shared_filterset(client_for, ops_user):
    CustomerFactory(company_id=100231, name="链家杭州", level="A")
    CustomerFactory(company_id=100232, name="我爱我家", level="B")

    response = client_for(ops_user).get("/api/customers/", {"level": "A"})

    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["company_id"] == 100231
    assert {"count", "next", "previous", "results"} <= set(body)


def test_page_size_is_capped(client_for, ops_user):
    response = client_for(ops_user).get("/api/customers/", {"page_size": 10_000})

    assert response.status_code == 200


def test_create_returns_the_customer(client_for, ops_user):
    response = client_for(ops_user).post(
        "/api/customers/create/",
        {"company_id": 100300, "name": "新房产经纪", "level": "S", "ops_owners": [ops_user.pk]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["company_id"], body["name"], body["level"]) == (100300, "新房产经纪", "S")
    assert body["ops_owners"] == [ops_user.pk]
    assert Customer.objects.filter(company_id=100300).exists()


def test_a_sales_user_creates_a_customer_they_can_then_see(client_for, sales_user):
    client = client_for(sales_user)

    created = client.post(
        "/api/customers/create/", {"company_id": 100301, "name": "销售新客户"}, format="json"
    ).json()

    assert client.get(f"/api/customers/{created['id']}/").status_code == 200


def test_duplicate_company_id_is_a_field_error(client_for, ops_user):
    CustomerFactory(company_id=100231)

    response = client_for(ops_user).post(
        "/api/customers/create/", {"company_id": 100231, "name": "重复"}, format="json"
    )

    assert response.status_code == 400
    assert "company_id" in response.json()["fields"]


def test_invalid_choice_is_a_field_error(client_for, ops_user):
    response = client_for(ops_user).post(
        "/api/customers/create/", {"company_id": 100400, "name": "甲", "level": "Z"}, format="json"
    )

    assert response.status_code == 400
    assert "level" in response.json()["fields"]


def test_service_validation_errors_come_back_as_fields(client_for, ops_user, monkeypatch):
    from django.core.exceptions import ValidationError

    from customers.api import views

    def refuse(**kwargs):
        raise ValidationError({"name": "公司名称不能为空白"})

    monkeypatch.setattr(views, "customer_create", refuse)

    response = client_for(ops_user).post(
        "/api/customers/create/", {"company_id": 100500, "name": "甲"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"name": ["公司名称不能为空白"]}


def test_update_changes_only_the_given_fields(client_for, sales_user):
    customer = CustomerFactory(sales_owner=sales_user, name="原名", level="B")

    response = client_for(sales_user).patch(
        f"/api/customers/{customer.pk}/update/", {"level": "A"}, format="json"
    )

    customer.refresh_from_db()
    assert response.status_code == 200
    assert (customer.name, customer.level) == ("原名", "A")


def test_contacts_list_primary_first(client_for, sales_user):
    customer = CustomerFactory(sales_owner=sales_user)
    ApiContactFactory(customer=customer, name="乙", is_primary=False)
    ApiContactFactory(customer=customer, name="甲", is_primary=True)

    response = client_for(sales_user).get(f"/api/customers/{customer.pk}/contacts/")

    assert [c["name"] for c in response.json()["results"]] == ["甲", "乙"]


def test_soft_deleted_customers_are_404(client_for, ops_user):
    customer = CustomerFactory(is_deleted=True)

    assert client_for(ops_user).get(f"/api/customers/{customer.pk}/").status_code == 404


def test_first_contact_becomes_primary_and_a_new_primary_demotes_it(client_for, sales_user):
    customer = CustomerFactory(sales_owner=sales_user)
    client = client_for(sales_user)
    url = f"/api/customers/{customer.pk}/contacts/create/"

    first = client.post(url, {"name": "甲", "phone": "13800138000"}, format="json")
    second = client.post(
        url, {"name": "乙", "email": "yi@example.com", "is_primary": True}, format="json"
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["is_primary"] is True
    assert dict(customer.contacts.values_list("name", "is_primary")) == {"甲": False, "乙": True}


def test_a_contact_needs_a_phone_or_an_email(client_for, ops_user):
    customer = CustomerFactory()

    response = client_for(ops_user).post(
        f"/api/customers/{customer.pk}/contacts/create/", {"name": "甲"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"phone": ["电话和邮箱至少填写一项"]}
    assert not customer.contacts.exists()


def test_contact_update_changes_only_the_given_fields(client_for, ops_user):
    contact = ApiContactFactory(name="甲", position="运营")

    response = client_for(ops_user).patch(
        f"/api/contacts/{contact.pk}/update/", {"position": "财务"}, format="json"
    )

    contact.refresh_from_db()
    assert response.status_code == 200
    assert (contact.name, contact.position, contact.phone) == ("甲", "财务", "13800138000")


def test_deleting_the_primary_contact_promotes_the_next(client_for, ops_user):
    customer = CustomerFactory()
    primary = ApiContactFactory(customer=customer, is_primary=True)
    other = ApiContactFactory(customer=customer, is_primary=False)

    response = client_for(ops_user).delete(f"/api/contacts/{primary.pk}/delete/")

    other.refresh_from_db()
    assert response.status_code == 204
    assert list(customer.contacts.all()) == [other]
    assert other.is_primary


def test_a_team_lead_changes_contacts_of_a_team_customer(client_for, world):
    # issue 15: a sales team lead edits the team's customers, their sections included
    from accounts.services import team_create
    from tests.factories import UserFactory

    lead = UserFactory(username="lead2", role="sales")
    team_create(name="华南组", lead=lead, members=[world["theirs"]["customer"].sales_owner])
    contact = world["theirs"]["contact"]

    response = client_for(lead).patch(
        f"/api/contacts/{contact.pk}/update/", {"position": "x"}, format="json"
    )

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.position == "x"
