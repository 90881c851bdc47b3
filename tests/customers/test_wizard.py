"""Create wizard: per-step validation, draft autosave and restore, duplicate warnings, final save."""

import pytest
from django.urls import reverse

from customers.models import Customer, CustomerDraft
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
URL = "/customers/new/"

STEP1 = {"step": "1", "lifecycle_status": "contracted", "cooperation_note": "正常使用", "settlement_method": "per_shoot",
         "billing_enabled": "yes", "mode": "按量", "contract_start": "2025-01-01", "service_start": "2025-01-15"}  # fmt: skip
STEP2 = {"step": "2", "company_id": "880001", "name": "杭州好房", "onboarded_raw": "25上半年", "level": "B",
         "contact_name": "李雷", "contact_phone": "13800138000", "contact_email": "li@example.com"}  # fmt: skip
STEP3 = {
    "step": "3",
    "website": "https://haofang.example.com",
    "monthly_avg_shots": "120",
    "consumption_level": "C3",
}


def formset(prefix, rows, step):
    data = {
        "step": str(step),
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


STEP4 = formset(
    "competitors", [{"company": "如视", "url": "https://realsee.example.com"}, {"company": ""}], 4
)
STEP5 = formset(
    "attention",
    [
        {"category": "commercial", "priority": "high", "text": "年底续约谈判"},
        {"priority": "medium"},
    ],
    5,
)


def test_each_step_validates_before_moving_on(client, ops_user):
    client.force_login(ops_user)

    response = client.post(URL, {**STEP1, "service_start": "2024-12-01"})

    assert response.status_code == 200
    assert "服务开始时间不能早于合作开始时间" in response.content.decode()
    response = client.post(URL, {**STEP2, "contact_phone": "123", "contact_email": ""})
    assert "请输入有效的电话号码" in response.content.decode()


def test_full_wizard_creates_customer_with_sections(client, ops_user):
    client.force_login(ops_user)

    for data, next_step in ((STEP1, 2), (STEP2, 3), (STEP3, 4), (STEP4, 5)):
        response = client.post(URL, data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"].endswith(f"?step={next_step}")
    response = client.post(URL, STEP5)

    customer = Customer.objects.get(company_id=880001)
    assert response["Location"] == reverse("customers:customer-detail", args=[customer.pk])
    assert (customer.lifecycle_status, customer.onboarded_year, customer.onboarded_half) == (
        "contracted",
        2025,
        1,
    )
    assert customer.cooperation.service_start.isoformat() == "2025-01-15"
    assert customer.contacts.get().is_primary
    assert [c.company for c in customer.competitors.all()] == ["如视"]
    assert customer.attention_items.get().text == "年底续约谈判"
    assert customer.website == "https://haofang.example.com"
    assert not CustomerDraft.objects.filter(owner=ops_user).exists()


def test_autosave_stores_an_incomplete_step_and_restore_offers_it(client, sales_user):
    client.force_login(sales_user)

    response = client.post(
        reverse("customers:customer-draft-save"),
        {"step": "2", "name": "半截客户", "company_id": ""},
    )

    assert response.status_code == 200
    assert "草稿已自动保存" in response.content.decode()
    draft = CustomerDraft.objects.get(owner=sales_user)
    assert draft.step == 2 and draft.data["2"]["name"] == ["半截客户"]

    page = client.get(URL).content.decode()
    assert "发现未完成的草稿" in page and 'href="?step=2"' in page
    restored = client.get(URL + "?step=2").content.decode()
    assert 'value="半截客户"' in restored


def test_discarding_the_draft(client, sales_user):
    client.force_login(sales_user)
    client.post(reverse("customers:customer-draft-save"), {"step": "1", "mode": "x"})

    client.get(URL + "?discard=1")

    assert not CustomerDraft.objects.filter(owner=sales_user).exists()


def test_drafts_are_per_user(client, sales_user, other_sales_user):
    client.force_login(sales_user)
    client.post(reverse("customers:customer-draft-save"), {"step": "2", "name": "我的草稿"})
    client.force_login(other_sales_user)

    assert "发现未完成的草稿" not in client.get(URL).content.decode()


def test_duplicate_warnings(client, sales_user, other_sales_user):
    CustomerFactory(name="普通用户", company_id=1, sales_owner=sales_user)
    CustomerFactory(name="别人的", company_id=2, sales_owner=other_sales_user)
    client.force_login(sales_user)
    check = reverse("customers:customer-duplicates")

    same_name = client.get(check, {"name": "普通用户", "company_id": ""}).content.decode()
    taken_in_scope = client.get(check, {"name": "", "company_id": "1"}).content.decode()
    taken_out_of_scope = client.get(check, {"name": "", "company_id": "2"}).content.decode()

    assert "已有同名客户" in same_name
    assert "公司id 已存在" in taken_in_scope and "普通用户" in taken_in_scope
    assert "不在您的客户范围内" in taken_out_of_scope and "别人的" not in taken_out_of_scope


def test_duplicate_company_id_blocks_step_two(client, ops_user):
    CustomerFactory(company_id=880001)
    client.force_login(ops_user)

    response = client.post(URL, STEP2)

    assert response.status_code == 200
    assert "公司id 已存在" in response.content.decode()


def test_sales_wizard_customer_belongs_to_them(client, sales_user):
    client.force_login(sales_user)
    for data in (STEP1, STEP2, STEP3, STEP4, STEP5):
        client.post(URL, data)

    assert Customer.objects.get(company_id=880001).sales_owner == sales_user


def test_manager_cannot_open_the_wizard(client, manager_user):
    client.force_login(manager_user)

    assert client.get(URL).status_code == 403


def test_autosave_refuses_an_oversized_draft_and_keeps_the_last_good_one(client, sales_user):
    # issue 12 item 9: the autosave endpoint stored whatever it was sent
    client.force_login(sales_user)
    save = reverse("customers:customer-draft-save")
    client.post(save, {"step": "2", "name": "好草稿"})

    response = client.post(save, {"step": "2", "name": "好草稿", "notes": "字" * 200_000})

    assert response.status_code == 413
    assert "草稿内容过多" in response.content.decode()
    assert CustomerDraft.objects.get(owner=sales_user).data["2"]["name"] == ["好草稿"]


def test_a_wizard_step_too_big_to_draft_answers_with_a_message(client, sales_user):
    client.force_login(sales_user)

    response = client.post(URL, {**STEP1, "cooperation_note": "字" * 200_000})

    assert response.status_code == 200
    assert "草稿内容过多" in response.content.decode()


def test_autosave_drops_nul_characters_postgresql_refuses(client, sales_user):
    client.force_login(sales_user)

    response = client.post(
        reverse("customers:customer-draft-save"), {"step": "2", "name": "a\x00b"}
    )

    assert response.status_code == 200
    assert CustomerDraft.objects.get(owner=sales_user).data["2"]["name"] == ["ab"]
