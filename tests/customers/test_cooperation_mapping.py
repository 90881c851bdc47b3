"""A hand-edited 合作状态 moves the lifecycle status through the admin's mapping, like the import."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers.models import CooperationStatusMapping, LifecycleChange, LifecycleStatus
from customers.selectors import cooperation_status_for
from customers.services import customer_update
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("note", "status"),
    [
        ("近一年未使用", LifecycleStatus.DORMANT),
        ("待确认  @孙晓", LifecycleStatus.POTENTIAL),  # the mention is dropped
        ("很奇怪的状态", None),
        ("", None),
    ],
)
def test_cooperation_status_for_follows_the_import_rule(note, status):
    assert cooperation_status_for(note) == status


def test_edited_note_moves_status_and_records_history(ops_user):
    customer = CustomerFactory(lifecycle_status=LifecycleStatus.ACTIVE, cooperation_note="正常使用")

    customer_update(user=ops_user, customer=customer, data={"cooperation_note": "近一年未使用"})

    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.DORMANT
    change = LifecycleChange.objects.get(customer=customer)
    assert (change.from_status, change.to_status, change.changed_by) == (
        LifecycleStatus.ACTIVE,
        LifecycleStatus.DORMANT,
        ops_user,
    )
    assert change.reason == "合作状态改为“近一年未使用”"


def test_admin_edited_mapping_is_what_counts(ops_user):
    CooperationStatusMapping.objects.filter(note_text="近一年未使用").update(
        status=LifecycleStatus.SUSPENDED
    )
    customer = CustomerFactory(lifecycle_status=LifecycleStatus.ACTIVE)

    customer_update(user=ops_user, customer=customer, data={"cooperation_note": "近一年未使用"})

    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.SUSPENDED


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"cooperation_note": "很奇怪的状态"}, LifecycleStatus.ACTIVE),  # unmapped: kept as text
        ({"cooperation_note": "消耗余量"}, LifecycleStatus.ACTIVE),  # maps to the current status
        (  # an explicit status wins over the note
            {"cooperation_note": "近一年未使用", "lifecycle_status": LifecycleStatus.SUSPENDED},
            LifecycleStatus.SUSPENDED,
        ),
    ],
)
def test_unmapped_same_or_explicit_status_leaves_the_mapping_alone(ops_user, data, expected):
    customer = CustomerFactory(lifecycle_status=LifecycleStatus.ACTIVE)

    customer_update(user=ops_user, customer=customer, data=data)

    customer.refresh_from_db()
    assert customer.lifecycle_status == expected
    assert customer.cooperation_note == data["cooperation_note"]


def test_mapped_status_off_the_machine_is_refused_and_nothing_saved(ops_user):
    customer = CustomerFactory(lifecycle_status=LifecycleStatus.POTENTIAL, remarks="旧备注")

    with pytest.raises(ValidationError) as caught:
        customer_update(
            user=ops_user,
            customer=customer,
            data={"cooperation_note": "近一年未使用", "remarks": "新备注"},
        )

    assert caught.value.message_dict["cooperation_note"] == [
        "合作状态“近一年未使用”对应生命周期状态“休眠”，不能从“潜在”直接变更"
        "（可变更为：商务洽谈、流失）；请先变更生命周期状态，或改用其他合作状态"
    ]
    customer.refresh_from_db()
    assert (customer.cooperation_note, customer.remarks) == ("", "旧备注")
    assert not LifecycleChange.objects.exists()


def test_edit_page_changes_status_from_the_note(client, ops_user):
    customer = CustomerFactory(lifecycle_status=LifecycleStatus.ACTIVE)
    client.force_login(ops_user)
    url = reverse("customers:customer-edit", args=[customer.pk])
    form = {"company_id": customer.company_id, "name": customer.name, "payment_terms_days": 30}

    refused = CustomerFactory(lifecycle_status=LifecycleStatus.POTENTIAL)
    error = client.post(
        reverse("customers:customer-edit", args=[refused.pk]),
        {**form, "company_id": refused.company_id, "cooperation_note": "近一年未使用"},
        HTTP_HX_REQUEST="true",
    )
    saved = client.post(url, {**form, "cooperation_note": "近一年未使用"}, HTTP_HX_REQUEST="true")

    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.DORMANT
    assert "不能从“潜在”直接变更" in error.content.decode()
    assert "近一年未使用" in saved.content.decode()
    refused.refresh_from_db()
    assert (refused.cooperation_note, refused.lifecycle_status) == ("", LifecycleStatus.POTENTIAL)
