"""Field-level permissions: a field hidden from a role is absent from pages, exports and the API."""

import io

import openpyxl
import pytest
from django.urls import reverse

from accounts.roles import Role
from customers.configuration.services import hidden_fields_set
from customers.models import HiddenField
from tests.factories import AdAccountFactory, ContactFactory, CustomerFactory, RenewalFactory

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
EMAIL = "secret-mail@example.com"
SPEND = "87654.32"  # ad account monthly spend
AMOUNT = "23456.78"  # renewal amount


@pytest.fixture
def customer(sales_user):
    customer = CustomerFactory(name="敏感客户", sales_owner=sales_user)
    ContactFactory(customer=customer, name="张三", phone=PHONE, email=EMAIL, is_primary=True)
    AdAccountFactory(customer=customer, monthly_spend=SPEND)
    RenewalFactory(customer=customer, amount=AMOUNT)
    return customer


def hide_from_sales(admin_user, *fields):
    hidden_fields_set(user=admin_user, hidden={(Role.SALES, f) for f in fields})


def detail_html(client, user, customer):
    client.force_login(user)
    return client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()


def export_cells(client, user) -> set[str]:
    client.force_login(user)
    response = client.post(
        reverse("customers:export-start") + "?scope=all",
        {"scope": "all", "format": "xlsx", "fields": ["company_id", "name"], "sections": "on"},
    )
    assert response.status_code == 200, response.content[:300]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    return {
        str(cell)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    }


def api_text(client_for, user, customer) -> str:
    api = client_for(user)
    texts = [
        api.get(f"/api/customers/{customer.pk}/contacts/").content.decode(),
        api.get(f"/api/customers/{customer.pk}/ad-accounts/").content.decode(),
    ]
    return "\n".join(texts)


@pytest.fixture
def client_for():
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    def _client(user):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return api

    return _client


def test_everything_shows_while_nothing_is_hidden(client, client_for, sales_user, customer):
    html = detail_html(client, sales_user, customer)
    cells = export_cells(client, sales_user)
    api = api_text(client_for, sales_user, customer)

    assert PHONE in html and EMAIL in html and "¥87,654.32" in html and "¥23,456.78" in html
    assert {PHONE, EMAIL, "87654.32", "23456.78"} <= cells
    assert PHONE in api and EMAIL in api and SPEND in api


def test_hidden_phone_email_and_money_are_absent_for_that_role_only(
    client, client_for, admin_user, sales_user, customer
):
    hide_from_sales(
        admin_user, HiddenField.Field.CONTACT_PHONE, HiddenField.Field.CONTACT_EMAIL, "money"
    )

    html = detail_html(client, sales_user, customer)
    cells = export_cells(client, sales_user)
    api = api_text(client_for, sales_user, customer)

    for secret in (PHONE, EMAIL, "87,654.32", "23,456.78"):
        assert secret not in html
    assert not {PHONE, EMAIL, "87654.32", "23456.78"} & cells
    assert "张三" in html and "张三" in cells and "张三" in api  # the rest still shows
    for secret in (PHONE, EMAIL, SPEND, '"phone"', '"email"', '"monthly_spend"'):
        assert secret not in api
    # Other roles are not affected; admins always see every field.
    admin_html = detail_html(client, admin_user, customer)
    assert PHONE in admin_html and "¥87,654.32" in admin_html


def test_a_hidden_phone_cannot_be_found_by_search(client, admin_user, sales_user, customer):
    hide_from_sales(admin_user, HiddenField.Field.CONTACT_PHONE)
    client.force_login(sales_user)

    found = client.get(reverse("customers:customer-list"), {"q": PHONE}).content.decode()

    assert "共 0 个客户" in found
    assert (
        "共 1 个客户"
        in client.get(reverse("customers:customer-list"), {"q": "张三"}).content.decode()
    )


def test_hidden_field_is_not_in_the_edit_form_and_keeps_its_value(
    client, admin_user, sales_user, customer
):
    hide_from_sales(admin_user, HiddenField.Field.CONTACT_PHONE)
    contact = customer.contacts.get()
    client.force_login(sales_user)
    url = reverse("customers:customer-section-edit", args=[customer.pk, "contacts", contact.pk])

    form_html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    client.post(url, {"name": "张三丰", "email": EMAIL, "is_primary": "on"}, HTTP_HX_REQUEST="true")

    assert PHONE not in form_html and 'name="phone"' not in form_html
    contact.refresh_from_db()
    assert contact.name == "张三丰" and contact.phone == PHONE


def test_field_visibility_page_saves_and_audits(client, admin_user):
    from auditlog.models import LogEntry

    client.force_login(admin_user)

    client.post(reverse("customers:field-visibility"), {"hide-manager-money": "1"})

    assert set(HiddenField.objects.values_list("role", "field")) == {("manager", "money")}
    assert LogEntry.objects.filter(
        content_type__model="hiddenfield", action=LogEntry.Action.CREATE, actor=admin_user
    ).exists()
