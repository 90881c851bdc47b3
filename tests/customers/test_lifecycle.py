"""Lifecycle status machine and grade suggestion: allowed and refused transitions, history rows."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers.lifecycle import allowed_transitions, can_transition, grade_for_amount
from customers.models import LifecycleChange, LifecycleStatus
from customers.selectors import grade_suggestion
from customers.services import customer_change_status
from tests.factories import CustomerFactory

S = LifecycleStatus


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [
        (S.POTENTIAL, S.NEGOTIATING),
        (S.NEGOTIATING, S.CONTRACTED),
        (S.CONTRACTED, S.ACTIVE),
        (S.ACTIVE, S.DORMANT),
        (S.DORMANT, S.ACTIVE),
        (S.ACTIVE, S.SUSPENDED),
        (S.SUSPENDED, S.RENEWAL),
        (S.RENEWAL, S.ACTIVE),
        (S.POTENTIAL, S.CHURNED),
        (S.DORMANT, S.CHURNED),
        (S.CHURNED, S.REACTIVATED),
        (S.REACTIVATED, S.ACTIVE),
    ],
)
def test_allowed_transitions(from_status, to_status):
    assert can_transition(from_status, to_status)


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [
        (S.POTENTIAL, S.ACTIVE),
        (S.POTENTIAL, S.CONTRACTED),
        (S.NEGOTIATING, S.ACTIVE),
        (S.DORMANT, S.SUSPENDED),
        (S.SUSPENDED, S.ACTIVE),
        (S.CHURNED, S.ACTIVE),
        (S.CHURNED, S.CHURNED),
        (S.ACTIVE, S.ACTIVE),
        (S.ACTIVE, S.POTENTIAL),
    ],
)
def test_refused_transitions(from_status, to_status):
    assert not can_transition(from_status, to_status)


def test_every_status_but_churned_can_churn():
    for status in S.values:
        assert (S.CHURNED in allowed_transitions(status)) == (status != S.CHURNED)


@pytest.mark.django_db
def test_change_status_records_history(ops_user):
    customer = CustomerFactory(lifecycle_status=S.ACTIVE)

    customer_change_status(
        user=ops_user, customer=customer, to_status=S.DORMANT, reason="近一年未使用"
    )

    customer.refresh_from_db()
    assert customer.lifecycle_status == S.DORMANT
    change = LifecycleChange.objects.get(customer=customer)
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        S.ACTIVE,
        S.DORMANT,
        "近一年未使用",
        ops_user,
    )
    assert change.changed_at is not None


@pytest.mark.django_db
def test_refused_change_leaves_status_and_history_untouched(ops_user):
    customer = CustomerFactory(lifecycle_status=S.POTENTIAL)

    with pytest.raises(ValidationError) as exc:
        customer_change_status(
            user=ops_user, customer=customer, to_status=S.ACTIVE, reason="跳过签约"
        )

    assert "不能从“潜在”变更为“活跃”" in exc.value.message_dict["to_status"][0]
    customer.refresh_from_db()
    assert customer.lifecycle_status == S.POTENTIAL
    assert not LifecycleChange.objects.exists()


@pytest.mark.django_db
def test_status_page_refuses_a_forbidden_transition(client, ops_user):
    customer = CustomerFactory(lifecycle_status=S.POTENTIAL)
    client.force_login(ops_user)

    client.post(f"/customers/{customer.pk}/status/", {"to_status": S.ACTIVE, "reason": "x"})

    customer.refresh_from_db()
    assert customer.lifecycle_status == S.POTENTIAL


THRESHOLDS = {
    "s_min": Decimal(500000),
    "a_min": Decimal(200000),
    "b_min": Decimal(50000),
    "c_min": Decimal(10000),
}


@pytest.mark.parametrize(
    ("amount", "grade"),
    [
        ("0", "D"),
        ("9999.99", "D"),
        ("10000", "C"),
        ("49999.99", "C"),
        ("50000.00", "B"),
        ("200000", "A"),
        ("499999.99", "A"),
        ("500000", "S"),
        ("9000000", "S"),
    ],
)
def test_grade_for_amount(amount, grade):
    assert grade_for_amount(Decimal(amount), **THRESHOLDS) == grade


@pytest.mark.django_db
def test_grade_suggestion_uses_admin_thresholds(admin_user):
    from customers.services import grade_thresholds_update

    grade_thresholds_update(
        user=admin_user, data={"s_min": "100", "a_min": "50", "b_min": "20", "c_min": "10"}
    )

    assert grade_suggestion(Decimal("100")) == "S"
    assert grade_suggestion(Decimal("15")) == "C"
    assert grade_suggestion(Decimal("9.99")) == "D"


@pytest.mark.django_db
def test_thresholds_must_descend_and_only_admin_sets_them(admin_user, ops_user):
    from django.core.exceptions import PermissionDenied

    from customers.services import grade_thresholds_update

    with pytest.raises(ValidationError):
        grade_thresholds_update(
            user=admin_user, data={"s_min": "10", "a_min": "50", "b_min": "20", "c_min": "10"}
        )
    with pytest.raises(PermissionDenied):
        grade_thresholds_update(user=ops_user, data={"s_min": "100"})


@pytest.mark.django_db
def test_threshold_page_is_admin_only(client, admin_user, ops_user):
    client.force_login(ops_user)
    assert client.get("/customers/grade-thresholds/").status_code == 403

    client.force_login(admin_user)
    response = client.post(
        "/customers/grade-thresholds/",
        {"s_min": "300", "a_min": "200", "b_min": "100", "c_min": "10"},
    )

    assert response.status_code == 302
    assert grade_suggestion(Decimal("250")) == "A"
