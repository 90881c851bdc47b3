"""Batch actions: all-or-nothing, audited, honouring scope, on a selection or the filtered set."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError

from customers.models import Customer, LifecycleChange, LifecycleStatus
from customers.services import BatchAction, customers_batch_apply
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db
S = LifecycleStatus


def test_status_batch_is_all_or_nothing(ops_user):
    movable = CustomerFactory.create_batch(3, lifecycle_status=S.ACTIVE)
    stuck = CustomerFactory(lifecycle_status=S.POTENTIAL)  # potential → dormant is refused
    selection = Customer.objects.filter(pk__in=[c.pk for c in [*movable, stuck]])

    with pytest.raises(ValidationError) as exc:
        customers_batch_apply(
            user=ops_user, customers=selection, action=BatchAction.STATUS, value=S.DORMANT
        )

    assert stuck.name in exc.value.messages[0]
    assert set(Customer.objects.values_list("lifecycle_status", flat=True)) == {
        S.ACTIVE,
        S.POTENTIAL,
    }
    assert not LifecycleChange.objects.exists()
    assert not LogEntry.objects.filter(additional_data__has_key="batch").exists()


def test_status_batch_records_history_and_audit(ops_user):
    customers = CustomerFactory.create_batch(3, lifecycle_status=S.ACTIVE)

    count = customers_batch_apply(
        user=ops_user,
        customers=Customer.objects.all(),
        action=BatchAction.STATUS,
        value=S.DORMANT,
        reason="近一年未使用",
    )

    assert count == 3
    assert set(Customer.objects.values_list("lifecycle_status", flat=True)) == {S.DORMANT}
    assert LifecycleChange.objects.filter(reason="近一年未使用", changed_by=ops_user).count() == 3
    entry = LogEntry.objects.get_for_object(customers[0]).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == ops_user
    assert entry.changes == {"lifecycle_status": [S.ACTIVE, S.DORMANT]}


def test_grade_tag_and_owner_batches(ops_user, sales_user):
    customers = CustomerFactory.create_batch(2)
    TagFactory(name="重点")
    qs = Customer.objects.all()

    customers_batch_apply(user=ops_user, customers=qs, action=BatchAction.GRADE, value="A")
    customers_batch_apply(user=ops_user, customers=qs, action=BatchAction.TAG, value="重点")
    customers_batch_apply(
        user=ops_user, customers=qs, action=BatchAction.TAG, value="重点"
    )  # idempotent
    customers_batch_apply(
        user=ops_user, customers=qs, action=BatchAction.SALES_OWNER, value=sales_user.pk
    )
    customers_batch_apply(
        user=ops_user, customers=qs, action=BatchAction.OPS_OWNER, value=ops_user.pk
    )

    for customer in customers:
        customer.refresh_from_db()
        assert customer.level == "A"
        assert [t.name for t in customer.tags.all()] == ["重点"]
        assert customer.sales_owner == sales_user
        assert list(customer.ops_owners.all()) == [ops_user]
    assert LogEntry.objects.filter(additional_data__has_key="batch").count() == 2 * 5


def test_sales_batch_refused_when_selection_includes_others(sales_user, other_sales_user):
    sales_user.data_scope = "all"
    sales_user.save()
    own = CustomerFactory(sales_owner=sales_user, level="C")
    other = CustomerFactory(sales_owner=other_sales_user, level="C")

    with pytest.raises(ValidationError):
        customers_batch_apply(
            user=sales_user,
            customers=Customer.objects.filter(pk__in=[own.pk, other.pk]),
            action=BatchAction.GRADE,
            value="S",
        )

    assert set(Customer.objects.values_list("level", flat=True)) == {"C"}


def test_sales_cannot_assign_owners_and_manager_cannot_batch(sales_user, manager_user):
    CustomerFactory(sales_owner=sales_user)

    with pytest.raises(PermissionDenied):
        customers_batch_apply(
            user=sales_user,
            customers=Customer.objects.all(),
            action=BatchAction.SALES_OWNER,
            value=sales_user.pk,
        )
    with pytest.raises(ValidationError):
        customers_batch_apply(
            user=manager_user, customers=Customer.objects.all(), action=BatchAction.GRADE, value="A"
        )


def test_batch_on_the_whole_filtered_set_via_the_page(client, ops_user):
    CustomerFactory.create_batch(3, name="链家门店", level="")
    untouched = CustomerFactory(name="我爱我家", level="")
    client.force_login(ops_user)

    response = client.post(
        "/customers/batch/", {"action": "grade", "level": "B", "apply_to": "all", "query": "q=链家"}
    )

    assert response.status_code == 302
    assert Customer.objects.filter(name="链家门店", level="B").count() == 3
    untouched.refresh_from_db()
    assert untouched.level == ""


def test_batch_selection_via_the_page_ignores_out_of_scope_ids(
    client, sales_user, other_sales_user
):
    own = CustomerFactory(sales_owner=sales_user)
    foreign = CustomerFactory(sales_owner=other_sales_user)
    client.force_login(sales_user)

    client.post(
        "/customers/batch/",
        {"action": "tag", "tag": "已拜访", "apply_to": "selected", "ids": [own.pk, foreign.pk]},
    )

    assert own.tags.filter(name="已拜访").exists()
    assert not foreign.tags.exists()


def test_large_filtered_set_runs_as_a_background_job(
    client, ops_user, monkeypatch, django_capture_on_commit_callbacks
):
    from accounts.models import Job
    from customers import services

    monkeypatch.setattr(services, "BATCH_SYNC_LIMIT", 2)
    CustomerFactory.create_batch(3, name="链家门店", lifecycle_status=S.ACTIVE)
    client.force_login(ops_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/customers/batch/",
            {
                "action": "status",
                "status": S.DORMANT,
                "reason": "停用",
                "apply_to": "all",
                "query": "q=链家",
            },
        )

    job = Job.objects.get(kind="customers_batch")
    assert response["Location"] == f"/accounts/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.result["updated"] == 3
    assert set(Customer.objects.values_list("lifecycle_status", flat=True)) == {S.DORMANT}
    assert LifecycleChange.objects.filter(changed_by=ops_user, reason="停用").count() == 3


def test_background_batch_failure_changes_nothing_and_says_why(
    client, ops_user, monkeypatch, django_capture_on_commit_callbacks
):
    from accounts.models import Job
    from customers import services

    monkeypatch.setattr(services, "BATCH_SYNC_LIMIT", 1)
    CustomerFactory(lifecycle_status=S.ACTIVE)
    CustomerFactory(lifecycle_status=S.POTENTIAL)
    client.force_login(ops_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/customers/batch/",
            {"action": "status", "status": S.DORMANT, "apply_to": "all", "query": ""},
        )

    job = Job.objects.get(kind="customers_batch")
    assert job.status == Job.Status.FAILED and "不能变更为“休眠”" in job.message
    assert not LifecycleChange.objects.exists()
