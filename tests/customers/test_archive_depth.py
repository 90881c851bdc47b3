"""Settings pages audited, the contract-start rule, one customer's edit history on its page."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from customers.models import CooperationStatusMapping, DictionaryItem, IssueCategory
from customers.services import (
    cooperation_save,
    customer_update,
    profile_save,
    section_item_save,
)
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_ops_adds_a_region_and_a_mapping_in_the_app_and_both_are_audited(client, ops_user):
    client.force_login(ops_user)

    client.post(
        reverse("customers:setting-list", args=["dictionary"]),
        {"kind": "region", "value": "华南", "sort_order": 1, "is_active": "on"},
    )
    client.post(
        reverse("customers:setting-list", args=["mapping"]),
        {"note_text": "试用中", "status": "negotiating"},
    )

    region = DictionaryItem.objects.get(kind="region", value="华南")
    mapping = CooperationStatusMapping.objects.get(note_text="试用中")
    for obj in (region, mapping):
        assert LogEntry.objects.get_for_object(obj).filter(actor=ops_user).exists()


def test_editing_and_deleting_settings_are_audited_and_used_items_are_protected(client, admin_user):
    industry = DictionaryItem.objects.create(kind="industry", value="租房")
    CustomerFactory(industry=industry)
    category = IssueCategory.objects.create(name="临时分类")
    client.force_login(admin_user)

    client.post(
        reverse("customers:setting-edit", args=["categories", category.pk]),
        {"name": "交付问题", "sort_order": 3, "is_active": "on"},
    )
    refused = client.post(
        reverse("customers:setting-delete", args=["dictionary", industry.pk]), follow=True
    )

    category.refresh_from_db()
    assert category.name == "交付问题"
    assert LogEntry.objects.get_for_object(category).filter(action=LogEntry.Action.UPDATE).exists()
    assert DictionaryItem.objects.filter(pk=industry.pk).exists()
    assert "不能删除" in refused.content.decode()


def test_qa_category_choices_come_from_the_admin_list(client, ops_user):
    IssueCategory.objects.all().delete()
    IssueCategory.objects.create(name="交付问题")
    customer = CustomerFactory()
    client.force_login(ops_user)
    url = reverse("customers:customer-section-new", args=[customer.pk, "issues"])

    refused = client.post(
        url, {"occurred_on": "2026-10-01", "category": "乱写", "description": "x", "status": "open"}
    )
    accepted = client.post(
        url,
        {"occurred_on": "2026-10-01", "category": "交付问题", "description": "x", "status": "open"},
    )

    assert refused.status_code == 200 and "乱写" not in customer.quality_issues.values_list(
        "category", flat=True
    )
    assert accepted.status_code == 302
    assert list(customer.quality_issues.values_list("category", flat=True)) == ["交付问题"]


def test_contract_start_cannot_be_in_the_future(ops_user):
    customer = CustomerFactory()
    tomorrow = timezone.localdate() + timedelta(days=1)

    with pytest.raises(ValidationError) as exc:
        cooperation_save(user=ops_user, customer=customer, data={"contract_start": tomorrow})

    assert exc.value.message_dict["contract_start"] == ["合作开始时间不能晚于今天"]
    cooperation_save(
        user=ops_user, customer=customer, data={"contract_start": timezone.localdate()}
    )


def test_wizard_refuses_a_future_contract_start(client, ops_user):
    client.force_login(ops_user)
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = client.post(
        reverse("customers:customer-create"),
        {"step": 1, "lifecycle_status": "potential", "contract_start": tomorrow.isoformat()},
    )

    assert "合作开始时间不能晚于今天" in response.content.decode()


def test_customer_page_shows_its_own_edit_history_including_sections(client, ops_user):
    customer = CustomerFactory(name="历史客户")
    other = CustomerFactory(name="别的客户")
    contact = ContactFactory(customer=customer, name="旧名")
    section_item_save(
        user=ops_user, customer=customer, section="contacts", data={"name": "新名"}, item=contact
    )
    section_item_save(
        user=ops_user,
        customer=customer,
        section="projects",
        data={"name": "年度拍摄", "kind": "shooting"},
    )
    profile_save(
        user=ops_user, customer=customer, section="business", data={"business_model": "brand"}
    )
    section_item_save(
        user=ops_user,
        customer=other,
        section="projects",
        data={"name": "别人的项目", "kind": "other"},
    )
    client.force_login(ops_user)

    html = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()
    history = html[html.index('id="section-edit-history"') :]

    assert "旧名 → 新名" in history
    assert "年度拍摄" in history and "商业概况" in history
    assert "别人的项目" not in history


def test_edit_history_reads_in_chinese_with_names_not_ids(client, ops_user, sales_user):
    customer = CustomerFactory(name="可读历史客户")
    customer_update(user=ops_user, customer=customer, data={"sales_owner": sales_user})
    profile_save(
        user=ops_user,
        customer=customer,
        section="business",
        data={"business_model": "brand", "has_operations_team": True},
    )
    client.force_login(ops_user)

    html = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()
    history = html[html.index('id="section-edit-history"') :]

    assert "有投放或运营团队：— → 是" in history and "True" not in history
    # Blank fields of a new row, its id and its customer (this page's) are left out.
    assert "ID：" not in history and "→ —" not in history and "客户：" not in history
    assert "修改客户" in history and "新建商业概况" in history
    assert f"销售负责人：— → {sales_user}" in history
    assert "中国本土品牌出海" in history  # the choice's label, not its code
    assert "update" not in history and "create" not in history


def test_regions_are_edited_with_the_basic_info_and_shown(client, ops_user):
    from tests.factories import DictionaryItemFactory

    east, north = DictionaryItemFactory(value="华东"), DictionaryItemFactory(value="华北")
    customer = CustomerFactory()
    client.force_login(ops_user)

    client.post(
        reverse("customers:customer-edit", args=[customer.pk]),
        {
            "company_id": customer.company_id,
            "name": customer.name,
            "payment_terms_days": 30,
            "disabled": "unknown",
            "regions": [east.pk, north.pk],
        },
    )
    html = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()

    assert set(customer.regions.all()) == {east, north}
    assert "华东" in html and "华北" in html


def test_lifecycle_rules_are_edited_in_the_app_and_refuse_an_impossible_move(client, ops_user):
    from customers.models import LifecycleRule

    client.force_login(ops_user)
    url = reverse("customers:setting-list", args=["lifecycle-rules"])
    rule = {"name": "一年无用量转休眠", "from_status": "active", "to_status": "dormant"}
    common = {"condition": "no_usage_days", "days": 365, "manual_hold_days": 30, "sort_order": 0}

    client.post(url, {**rule, **common, "enabled": "on"})
    refused = client.post(
        url, {**common, "name": "不可能", "from_status": "churned", "to_status": "dormant"}
    )

    saved = LifecycleRule.objects.get(name="一年无用量转休眠")
    assert LogEntry.objects.get_for_object(saved).filter(actor=ops_user).exists()
    assert not LifecycleRule.objects.filter(name="不可能").exists()
    assert "生命周期不允许" in refused.content.decode()


def test_grade_thresholds_are_set_in_the_app_and_audited(client, admin_user):
    from customers.models import GradeThresholds

    client.force_login(admin_user)

    response = client.post(
        reverse("customers:grade-thresholds"),
        {"s_min": "200000", "a_min": "100000", "b_min": "50000", "c_min": "10000"},
    )

    assert response.status_code == 302
    thresholds = GradeThresholds.objects.get()
    assert str(thresholds.a_min) == "100000.00"
    entry = LogEntry.objects.get_for_object(thresholds).get()
    assert entry.actor == admin_user and "a_min" in entry.changes_dict
