"""Detail page: header, in-place (htmx) editing of basic info and cooperation, billing slot, history."""

import pytest
from django.urls import reverse

from customers.services import customer_change_status
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_header_sections_and_billing_slot(client, ops_user, sales_user):
    customer = CustomerFactory(
        name="北京链家", level="A", sales_owner=sales_user, lifecycle_status="active"
    )
    customer.ops_owners.add(ops_user)
    customer_change_status(
        user=ops_user, customer=customer, to_status="dormant", reason="近一年未使用"
    )
    client.force_login(ops_user)

    html = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()

    assert "北京链家" in html and "等级 A" in html and "王珂" in html and "钱多" in html
    for section in (
        "basic",
        "cooperation",
        "contacts",
        "competitors",
        "attention",
        "issues",
        "renewals",
        "followups",
        "tags",
    ):
        assert f'id="section-{section}"' in html
    assert 'id="billing-summary"' in html
    assert "活跃 → 休眠" in html and "近一年未使用" in html


def test_unmatched_sales_owner_is_shown_as_text(client, ops_user):
    customer = CustomerFactory(sales_owner=None, sales_owner_raw="张随军")
    client.force_login(ops_user)

    html = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()

    assert "张随军" in html and "未匹配" in html


def test_basic_info_edits_in_place(client, ops_user):
    customer = CustomerFactory(name="旧名")
    client.force_login(ops_user)
    url = reverse("customers:customer-edit", args=[customer.pk])

    form_html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    response = client.post(
        url,
        {
            "company_id": customer.company_id,
            "name": "新名",
            "payment_terms_days": 45,
            "onboarded_raw": "25下半年",
            "disabled": "unknown",
        },
        HTTP_HX_REQUEST="true",
    )

    assert 'hx-post="' + url in form_html and "<html" not in form_html
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card mb-3" id="section-basic">')
    assert "45 天" in html and "25下半年" in html
    customer.refresh_from_db()
    assert (customer.name, customer.onboarded_year, customer.onboarded_half) == ("新名", 2025, 2)


def test_invalid_basic_edit_shows_chinese_errors_in_place(client, ops_user):
    customer = CustomerFactory()
    client.force_login(ops_user)

    response = client.post(
        reverse("customers:customer-edit", args=[customer.pk]),
        {
            "company_id": customer.company_id,
            "name": "",
            "payment_terms_days": 30,
            "onboarded_raw": "去年",
        },
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "接入时间格式应如 25上半年" in html and "该字段是必填项" in html


def test_cooperation_edits_in_place_and_refuses_service_before_contract(client, ops_user):
    customer = CustomerFactory()
    client.force_login(ops_user)
    url = reverse("customers:customer-cooperation", args=[customer.pk])

    bad = client.post(
        url,
        {"mode": "年框", "contract_start": "2025-03-01", "service_start": "2025-02-01"},
        HTTP_HX_REQUEST="true",
    )
    good = client.post(
        url,
        {"mode": "年框", "contract_start": "2025-03-01", "service_start": "2025-03-10"},
        HTTP_HX_REQUEST="true",
    )

    assert "服务开始时间不能早于合作开始时间" in bad.content.decode()
    assert "2025-03-10" in good.content.decode()
    customer.refresh_from_db()
    assert customer.cooperation.mode == "年框"


def test_section_form_without_htmx_is_a_full_page(client, ops_user):
    customer = CustomerFactory()
    client.force_login(ops_user)

    page = client.get(reverse("customers:customer-section-new", args=[customer.pk, "followups"]))
    saved = client.post(
        reverse("customers:customer-section-new", args=[customer.pk, "followups"]),
        {"body": "上门拜访"},
    )

    assert "<html" in page.content.decode()
    assert saved.status_code == 302
    note = customer.follow_ups.get()
    assert note.body == "上门拜访" and note.author == ops_user
