"""Detail page: header, in-place (htmx) editing of basic info and cooperation, billing slot, history."""

import datetime
import re

import pytest
from auditlog.context import disable_auditlog
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.services import customer_change_status
from tests.factories import (
    CustomerFactory,
    QualityIssueFactory,
    RenewalFactory,
    UserFactory,
)

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


SECTION_TABLES = (
    "customers_contact",
    "customers_competitor",
    "customers_attentionitem",
    "customers_qualityissue",
    "customers_renewal",
    "customers_followupnote",
    "customers_project",
    "customers_adaccount",
    "customers_businessprofile",
    "customers_websiteinfo",
)


def _detail_queries(client, customer):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("customers:customer-detail", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in ctx.captured_queries]


def test_an_empty_archive_is_checked_by_one_query_not_one_a_section(client, ops_user):
    # Most customers have no rows in the eight sections and two profiles: one statement
    # asks which have any (it was one query each, plus two for the key figures).
    customer = CustomerFactory()
    client.force_login(ops_user)
    client.get(reverse("customers:customer-detail", args=[customer.pk]))  # session renewal

    html, queries = _detail_queries(client, customer)

    touching = [q for q in queries if any(f'"{t}"' in q for t in SECTION_TABLES)]
    assert len(touching) == 1 and touching[0].startswith("SELECT ARRAY[EXISTS")
    assert "暂无联系人" in html and "暂无商业概况" in html and "暂无续约" in html


def test_section_rows_bring_their_people_in_the_same_query(client, ops_user):
    # The issue rows show their owner: one query for the section, not one more a row.
    # (Rows made without audit entries: the edit history's own reads are not the subject.)
    customer = CustomerFactory()
    with disable_auditlog():
        QualityIssueFactory(customer=customer, owner=UserFactory(full_name="负责人甲"))
    client.force_login(ops_user)
    client.get(reverse("customers:customer-detail", args=[customer.pk]))
    _, one_row = _detail_queries(client, customer)

    with disable_auditlog():
        for name in ("负责人乙", "负责人丙"):
            QualityIssueFactory(customer=customer, owner=UserFactory(full_name=name))
    html, three_rows = _detail_queries(client, customer)

    assert len(three_rows) == len(one_row)
    assert all(name in html for name in ("负责人甲", "负责人乙", "负责人丙"))


def _key_figure(html, label):
    match = re.search(
        rf'<div class="small text-muted">{label}</div><div class="fw-semibold">([^<]*)</div>', html
    )
    return match.group(1)


def test_key_figures_count_open_issues_and_show_the_next_pending_renewal(client, ops_user):
    today = timezone.localdate()
    customer = CustomerFactory()
    for status in ("open", "in_progress", "done", "closed"):
        QualityIssueFactory(customer=customer, status=status)
    RenewalFactory(customer=customer, expires_on=today - datetime.timedelta(days=1))  # past
    RenewalFactory(customer=customer, expires_on=today + datetime.timedelta(days=5), status="lost")
    RenewalFactory(customer=customer, expires_on=today + datetime.timedelta(days=40))
    RenewalFactory(customer=customer, expires_on=today + datetime.timedelta(days=9))
    client.force_login(ops_user)

    html = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()

    assert _key_figure(html, "未结问题") == "2"
    assert _key_figure(html, "下次续约到期") == (today + datetime.timedelta(days=9)).isoformat()

    empty = CustomerFactory()
    html = client.get(reverse("customers:customer-detail", args=[empty.pk])).content.decode()
    assert _key_figure(html, "未结问题") == "0" and _key_figure(html, "下次续约到期") == "—"
