"""customer_create/customer_update contract, detail sections, soft delete, audit."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError

from customers.models import Contact, Customer, DictionaryItem
from customers.selectors import scoped_customers
from customers.services import (
    cooperation_save,
    customer_create,
    customer_soft_delete,
    customer_tag_add,
    customer_update,
    section_item_delete,
    section_item_save,
)
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_create_with_model_field_names(ops_user, sales_user):
    industry = DictionaryItem.objects.create(kind=DictionaryItem.Kind.INDUSTRY, value="房产经纪")

    customer = customer_create(
        user=ops_user,
        data={
            "company_id": 5001,
            "name": "链家",
            "industry": industry.pk,
            "sales_owner": sales_user,
            "ops_owners": [ops_user],
        },
    )

    assert customer.industry == industry
    assert customer.sales_owner == sales_user
    assert list(customer.ops_owners.all()) == [ops_user]
    assert (
        LogEntry.objects.get_for_object(customer)
        .filter(action=LogEntry.Action.CREATE, actor=ops_user)
        .exists()
    )


def test_create_duplicate_company_id_is_a_field_error(ops_user):
    CustomerFactory(company_id=42)

    with pytest.raises(ValidationError) as exc:
        customer_create(user=ops_user, data={"company_id": 42, "name": "重复"})

    assert "company_id" in exc.value.message_dict


def test_create_duplicate_name_is_allowed(ops_user):
    CustomerFactory(name="普通用户")

    customer_create(user=ops_user, data={"company_id": 7, "name": "普通用户"})

    assert Customer.objects.filter(name="普通用户").count() == 2


def test_create_unknown_field_and_missing_name(ops_user):
    with pytest.raises(ValidationError) as exc:
        customer_create(user=ops_user, data={"company_id": 8, "nonsense": 1})
    assert "nonsense" in exc.value.message_dict

    with pytest.raises(ValidationError) as exc:
        customer_create(user=ops_user, data={"company_id": 8})
    assert "name" in exc.value.message_dict


def test_sales_create_owns_the_customer_and_cannot_assign_others(sales_user, other_sales_user):
    customer = customer_create(user=sales_user, data={"company_id": 9, "name": "自建"})
    assert customer.sales_owner == sales_user

    with pytest.raises(ValidationError):
        customer_create(
            user=sales_user,
            data={"company_id": 10, "name": "他人", "sales_owner": other_sales_user},
        )


def test_manager_cannot_create(manager_user):
    with pytest.raises(PermissionDenied):
        customer_create(user=manager_user, data={"company_id": 11, "name": "x"})


def test_update_rules_by_role(ops_user, sales_user, other_sales_user, manager_user):
    own = CustomerFactory(sales_owner=sales_user)

    customer_update(user=sales_user, customer=own, data={"remarks": "已跟进"})
    customer_update(user=ops_user, customer=own, data={"remarks": "运营补充"})
    own.refresh_from_db()
    assert own.remarks == "运营补充"

    for user in (other_sales_user, manager_user):
        with pytest.raises(PermissionDenied):
            customer_update(user=user, customer=own, data={"remarks": "不允许"})
    with pytest.raises(ValidationError):
        customer_update(user=sales_user, customer=own, data={"sales_owner": other_sales_user})


def test_update_routes_lifecycle_through_the_machine(ops_user):
    customer = CustomerFactory()

    with pytest.raises(ValidationError):
        customer_update(user=ops_user, customer=customer, data={"lifecycle_status": "active"})
    customer_update(
        user=ops_user,
        customer=customer,
        data={"lifecycle_status": "negotiating", "status_reason": "首次拜访"},
    )

    customer.refresh_from_db()
    assert customer.lifecycle_status == "negotiating"
    assert customer.lifecycle_changes.get().reason == "首次拜访"


def test_contacts_keep_exactly_one_primary(ops_user):
    customer = CustomerFactory()

    first = section_item_save(
        user=ops_user,
        customer=customer,
        section="contacts",
        data={"name": "甲", "phone": "13800138000"},
    )
    second = section_item_save(
        user=ops_user,
        customer=customer,
        section="contacts",
        data={"name": "乙", "email": "b@example.com", "is_primary": True},
    )

    first.refresh_from_db()
    assert first.is_primary is False and second.is_primary is True
    section_item_delete(user=ops_user, customer=customer, section="contacts", item=second)
    first.refresh_from_db()
    assert first.is_primary is True
    assert Contact.objects.filter(customer=customer, is_primary=True).count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "甲", "phone": "12345"}, "phone"),
        ({"name": "甲", "email": "not-an-email"}, "email"),
        ({"name": "甲"}, "phone"),
    ],
)
def test_contact_phone_and_email_are_validated(ops_user, data, field):
    customer = CustomerFactory()

    with pytest.raises(ValidationError) as exc:
        section_item_save(user=ops_user, customer=customer, section="contacts", data=data)

    assert field in exc.value.message_dict


def test_service_start_not_before_contract_start(ops_user):
    customer = CustomerFactory()

    with pytest.raises(ValidationError) as exc:
        cooperation_save(
            user=ops_user,
            customer=customer,
            data={"contract_start": date(2025, 3, 1), "service_start": date(2025, 2, 1)},
        )
    assert exc.value.message_dict["service_start"] == ["服务开始时间不能早于合作开始时间"]

    detail = cooperation_save(
        user=ops_user,
        customer=customer,
        data={"contract_start": date(2025, 3, 1), "service_start": date(2025, 3, 1)},
    )
    assert detail.pk


def test_renewal_reminder_window(ops_user):
    customer = CustomerFactory()
    renewal = section_item_save(
        user=ops_user,
        customer=customer,
        section="renewals",
        data={"expires_on": date(2026, 1, 31), "remind_days_before": 30},
    )

    assert not renewal.needs_reminder(date(2025, 12, 1))
    assert renewal.needs_reminder(date(2026, 1, 1))


def test_item_of_another_customer_is_refused(ops_user):
    contact = ContactFactory()
    other = CustomerFactory()

    with pytest.raises(PermissionDenied):
        section_item_save(
            user=ops_user, customer=other, section="contacts", data={"name": "x"}, item=contact
        )


def test_soft_delete_is_admin_only_and_hides_the_customer(admin_user, ops_user):
    customer = CustomerFactory()

    with pytest.raises(PermissionDenied):
        customer_soft_delete(user=ops_user, customer=customer)
    customer_soft_delete(user=admin_user, customer=customer)

    assert not scoped_customers(admin_user).filter(pk=customer.pk).exists()
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    assert (
        LogEntry.objects.get_for_object(customer)
        .filter(actor=admin_user, action=LogEntry.Action.UPDATE)
        .exists()
    )


def test_tag_and_section_writes_are_audited(ops_user):
    customer = CustomerFactory()

    customer_tag_add(user=ops_user, customer=customer, name="重点客户")
    issue = section_item_save(
        user=ops_user,
        customer=customer,
        section="issues",
        data={"occurred_on": date(2025, 10, 1), "category": "服务", "description": "拍摄延迟"},
    )

    assert LogEntry.objects.get_for_object(issue).filter(actor=ops_user).exists()
    tag_entry = LogEntry.objects.get_for_object(customer).get(actor=ops_user)
    assert tag_entry.changes["tags"]["objects"] == ["重点客户"]


@pytest.mark.parametrize(
    ("raw", "year", "half"),
    [
        ("25上半年", 2025, 1),
        ("25下半年", 2025, 2),
        ("26年上半年", 2026, 1),
        ("2024下半年", 2024, 2),
        ("#N/A", None, None),
    ],
)
def test_onboarded_half_year_is_derived_from_the_raw_text(ops_user, raw, year, half):
    customer = customer_create(
        user=ops_user, data={"company_id": 77, "name": "接入", "onboarded_raw": raw}
    )

    assert (customer.onboarded_raw, customer.onboarded_year, customer.onboarded_half) == (
        raw,
        year,
        half,
    )


def test_create_starts_the_lifecycle_history_with_the_first_status(ops_user):
    customer = customer_create(
        user=ops_user,
        data={"company_id": 990001, "name": "新客户", "lifecycle_status": "negotiating"},
    )

    (first,) = customer.lifecycle_changes.all()
    assert (first.from_status, first.to_status, first.changed_by) == ("", "negotiating", ops_user)
    assert str(first) == "初始状态：商务洽谈"
