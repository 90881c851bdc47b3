"""Head-office groups (集团): who manages them, membership rules, pages and scope."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import Role
from customers.models import Customer, CustomerGroup
from customers.services import group_create, group_set_members
from tests.factories import CustomerFactory, CustomerGroupFactory, UserFactory, issued_bill

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.ADMIN, True), (Role.OPS, True), (Role.MANAGER, False), (Role.SALES, False)],
)
def test_who_may_create_a_group(role, allowed):
    user = UserFactory(role=role, username=f"g-{role}")
    head = CustomerFactory()
    if allowed:
        group = group_create(user=user, name="华联集团", head_office=head)
        head.refresh_from_db()
        assert head.group == group
    else:
        with pytest.raises(PermissionDenied):
            group_create(user=user, name="华联集团", head_office=head)


def test_members_are_set_exactly_and_a_customer_belongs_to_one_group(ops_user):
    head, a, b = CustomerFactory(), CustomerFactory(), CustomerFactory()
    group = group_create(user=ops_user, name="华联集团", head_office=head)
    other = CustomerGroupFactory()
    taken = CustomerFactory(group=other)

    assert group_set_members(user=ops_user, group=group, customers=[a, b]) == 3
    assert group_set_members(user=ops_user, group=group, customers=[a]) == 2
    assert set(Customer.objects.filter(group=group)) == {head, a}
    with pytest.raises(ValidationError, match="已属于集团"):
        group_set_members(user=ops_user, group=group, customers=[taken])
    assert taken.group_id == other.pk and CustomerGroup.objects.count() == 2


def test_ops_creates_a_group_and_sets_members_in_the_app(client, ops_user):
    head = CustomerFactory(company_id=5001)
    store = CustomerFactory(company_id=5002)
    client.force_login(ops_user)

    response = client.post(
        reverse("customers:group-list"), {"name": "华联集团", "head_office": "5001"}
    )
    group = CustomerGroup.objects.get()
    assert response.url == reverse("customers:group-detail", args=[group.pk])
    client.post(reverse("customers:group-members", args=[group.pk]), {"company_ids": "5002\n5001"})

    assert set(group.members.all()) == {head, store}
    bad = client.post(reverse("customers:group-list"), {"name": "乙集团", "head_office": "9999"})
    assert "找不到公司id为 9999 的客户" in bad.content.decode()


def test_a_salesperson_sees_own_members_only(client, ops_user, sales_user):
    head = CustomerFactory(company_id=6001)
    own = CustomerFactory(company_id=6002, sales_owner=sales_user)
    other = CustomerFactory(company_id=6003, name="别人的门店")
    group = CustomerGroupFactory(head_office=head, name="华联集团")
    Customer.objects.filter(pk__in=[head.pk, own.pk, other.pk]).update(group=group)
    issued_bill(user=ops_user, customer=own, lines=["100"])
    issued_bill(user=ops_user, customer=other, lines=["900"])
    stranger_group = CustomerGroupFactory(head_office=CustomerFactory())
    Customer.objects.filter(pk=stranger_group.head_office_id).update(group=stranger_group)
    client.force_login(sales_user)

    detail = client.get(reverse("customers:group-detail", args=[group.pk]))
    statement = client.get(
        reverse("billing:group-statement", args=[group.pk]) + "?start=2025-10&end=2025-10"
    )

    assert [m.company_id for m in detail.context["members"]] == [6002]
    assert "别人的门店" not in detail.content.decode()
    assert [s.customer.company_id for s in statement.context["statement"].members] == [6002]
    assert statement.context["statement"].billed == 100
    assert (
        client.get(reverse("customers:group-detail", args=[stranger_group.pk])).status_code == 404
    )
    index = client.get(reverse("billing:group-statement-index"))
    assert list(index.context["groups"]) == [group]


def test_group_statement_exports_xlsx_and_pdf(client, ops_user):
    head, store = CustomerFactory(company_id=7001), CustomerFactory(company_id=7002)
    group = CustomerGroupFactory(head_office=head, name="华联集团")
    Customer.objects.filter(pk__in=[head.pk, store.pk]).update(group=group)
    issued_bill(user=ops_user, customer=store, period=dt.date(2025, 10, 1), lines=["250"])
    client.force_login(ops_user)
    query = "?start=2025-10&end=2025-10"

    xlsx = client.get(reverse("billing:group-statement-xlsx", args=[group.pk]) + query)
    pdf = client.get(reverse("billing:group-statement-pdf", args=[group.pk]) + query)

    sheet = load_workbook(io.BytesIO(xlsx.content))["集团对账单"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5, max_row=7)]
    assert rows[0][:2] == ["7001", head.name] and rows[1][3] == 250
    assert rows[2][1] == "合计" and rows[2][6] == 250
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
