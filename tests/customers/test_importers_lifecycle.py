"""The import and the lifecycle: history rows for statuses it sets, one audit entry, staged prices in the admin."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from customers.models import Customer, LifecycleChange, LifecycleStatus
from customers.services import customer_change_status
from tests.factories import CustomerFactory

from .import_files import row, standard
from .test_importers import run


@pytest.mark.django_db
def test_new_customers_record_their_initial_status(ops_user):
    run(
        standard(row(1, "甲", cooperation="近一年未使用"), row(2, "乙")),
        filename="客户.xlsx",
        user=ops_user,
    )

    first, second = (LifecycleChange.objects.get(customer__company_id=i) for i in (1, 2))
    assert (first.from_status, first.to_status) == ("", LifecycleStatus.DORMANT)
    assert first.changed_by == ops_user
    assert first.reason == "导入新建客户（客户.xlsx 第 2 行）：合作状态“近一年未使用”"
    assert (second.from_status, second.to_status) == ("", LifecycleStatus.POTENTIAL)
    assert str(first) == "初始状态：休眠"


@pytest.mark.django_db
def test_reimport_changing_cooperation_records_from_and_to_like_a_status_change(ops_user):
    moved = CustomerFactory(company_id=1, name="甲", lifecycle_status=LifecycleStatus.ACTIVE)
    CustomerFactory(company_id=2, name="乙", lifecycle_status=LifecycleStatus.ACTIVE)
    CustomerFactory(company_id=3, name="丙", lifecycle_status=LifecycleStatus.ACTIVE)
    entries_before = LogEntry.objects.count()

    plan, counts = run(
        standard(
            row(1, "甲", cooperation="近一年未使用"),  # active → dormant
            row(2, "乙", cooperation="正常使用"),  # text changes, status stays active
            row(3, "丙改名"),  # no cooperation cell: status untouched
        ),
        filename="客户.xlsx",
        user=ops_user,
    )

    change = LifecycleChange.objects.get()
    assert change.customer_id == moved.pk
    assert (change.from_status, change.to_status) == (
        LifecycleStatus.ACTIVE,
        LifecycleStatus.DORMANT,
    )
    assert change.changed_by == ops_user
    assert "合作状态“近一年未使用”" in change.reason
    assert Customer.objects.get(pk=moved.pk).lifecycle_status == LifecycleStatus.DORMANT
    # one audited event for the whole import, naming the history rows it wrote
    assert LogEntry.objects.count() == entries_before + 1
    entry = LogEntry.objects.latest("timestamp")
    assert entry.additional_data["lifecycle_changes"] == 1
    assert "生命周期状态记录 1" in entry.changes_text


@pytest.mark.django_db
def test_import_history_reads_like_manual_changes_on_the_detail_page(client, ops_user):
    run(standard(row(1, "甲", cooperation="正常使用")), filename="客户.xlsx", user=ops_user)
    customer = Customer.objects.get(company_id=1)
    customer_change_status(
        user=ops_user, customer=customer, to_status=LifecycleStatus.DORMANT, reason="一年未拍"
    )
    client.force_login(ops_user)

    page = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()

    assert "初始状态：活跃" in page
    assert "活跃 → 休眠" in page
    assert list(customer.lifecycle_changes.values_list("from_status", "to_status")) == [
        (LifecycleStatus.ACTIVE, LifecycleStatus.DORMANT),
        ("", LifecycleStatus.ACTIVE),
    ]


@pytest.mark.django_db
def test_unchanged_reimport_writes_no_history(ops_user):
    data = standard(row(1, "甲", cooperation="正常使用"))
    run(data, user=ops_user)

    run(data, user=ops_user)

    assert LifecycleChange.objects.count() == 1


# --- staged prices in the admin ---------------------------------------------------


@pytest.mark.django_db
def test_imported_prices_are_read_only_and_scoped_in_admin(client, admin_user, ops_user):
    run(standard(row(1, "甲", settlement_method="定价结算", single_price=12)), user=ops_user)
    client.force_login(admin_user)
    changelist = reverse("admin:customers_importedprice_changelist")

    page = client.get(changelist)

    assert page.status_code == 200
    assert "甲" in page.content.decode()
    assert client.get(reverse("admin:customers_importedprice_add")).status_code == 403
    staged = page.context["cl"].result_list[0]
    detail = client.post(
        reverse("admin:customers_importedprice_change", args=[staged.pk]), {"single_raw": "99"}
    )
    assert detail.status_code == 403
    staged.refresh_from_db()
    assert staged.single_raw == "12"
