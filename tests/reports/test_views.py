"""Report pages: who may open them, what they show, the export, the role home pages."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from accounts.roles import Role
from tests.factories import CustomerFactory, ReportBillFactory, UserFactory

from .conftest import TODAY

REPORT_URLS = [
    "reports:index",
    "reports:cockpit",
    "reports:receivables",
    "reports:receivables-export",
    "reports:payments",
    "reports:settlement",
]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr("reports.views._today", lambda: TODAY)


@pytest.mark.parametrize("name", REPORT_URLS)
@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMIN, 200), (Role.MANAGER, 200), (Role.OPS, 200), (Role.SALES, 200), ("", 403)],
)
def test_every_role_opens_reports_and_no_role_is_refused(client, world, name, role, status):
    client.force_login(UserFactory(role=role))

    assert client.get(reverse(name)).status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize("name", REPORT_URLS)
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_receivables_page_shows_totals_and_rows(client, world, manager_user):
    client.force_login(manager_user)

    page = client.get(reverse("reports:receivables")).content.decode()

    for figure in ("¥5,300.00", "¥900.00", "¥4,400.00", "¥3,900.00", "¥2,000.00", "¥800.00"):
        assert figure in page
    assert "丙平台" in page and "¥999.00" not in page  # reversed bill and credit note absent


def test_sales_sees_only_their_customers(client, world, sales_user):
    client.force_login(sales_user)

    pages = [
        client.get(reverse(name)).content.decode()
        for name in ("reports:receivables", "reports:payments", "reports:cockpit", "home")
    ]

    assert "¥3,300.00" in pages[0]
    for page in pages:
        assert "丙平台" not in page
        assert "甲房产" in page


def test_receivables_filters_and_bad_month_range(client, world, manager_user):
    client.force_login(manager_user)

    level_a = client.get(reverse("reports:receivables"), {"level": "A"}).content.decode()
    bad = client.get(
        reverse("reports:receivables"), {"month_from": "2025-12", "month_to": "2025-10"}
    )

    assert "¥3,800.00" in level_a
    assert bad.status_code == 200
    assert "结束月份不能早于起始月份" in bad.content.decode()


def test_receivables_page_query_count_does_not_grow_with_rows(
    client, world, manager_user, django_assert_max_num_queries
):
    for _n in range(30):
        ReportBillFactory(customer=CustomerFactory(), total="10.00")
    client.force_login(manager_user)

    with django_assert_max_num_queries(14):
        assert client.get(reverse("reports:receivables")).status_code == 200


def test_receivables_export_is_a_workbook_with_totals(client, world, manager_user):
    formula_name = CustomerFactory(name="=HYPERLINK(1)")
    ReportBillFactory(customer=formula_name, total="12.50", due_date=dt.date(2026, 2, 28))
    client.force_login(manager_user)

    response = client.get(reverse("reports:receivables-export"), {"level": ""})

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:7] == (
        "公司id",
        "公司名称",
        "销售负责人",
        "账期月份",
        "账单号",
        "到期日",
        "应收",
    )
    assert len(rows) == 1 + 7 + 1
    assert rows[-1][0] == "合计"
    assert rows[-1][6] == pytest.approx(5312.50)
    assert rows[-1][9] == pytest.approx(3900.00)
    names = [r[1] for r in rows[1:-1]]
    assert "=HYPERLINK(1)" in names  # stored as text, not a formula
    assert sheet.cell(row=names.index("=HYPERLINK(1)") + 2, column=2).data_type == "s"


def test_sales_export_holds_only_their_customers(client, world, sales_user):
    client.force_login(sales_user)

    response = client.get(reverse("reports:receivables-export"))

    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert {r[0] for r in rows[1:-1]} == {1001, 1002}
    assert rows[-1][6] == pytest.approx(3300.00)


def test_payments_and_settlement_pages(client, world, manager_user):
    client.force_login(manager_user)

    payments = client.get(reverse("reports:payments")).content.decode()
    settlement = client.get(reverse("reports:settlement"), {"month": "2025-10"}).content.decode()

    assert "¥2,200.00" in payments and "¥1,300.00" in payments
    assert "冲正单" in settlement and "−¥999.00" in settlement
    assert "丁租房" in settlement and "戊停用" not in settlement


def test_manager_and_admin_home_is_the_cockpit(client, world, manager_user, admin_user):
    for user in (manager_user, admin_user):
        client.force_login(user)

        page = client.get(reverse("home")).content.decode()

        assert 'id="cockpit"' in page
        assert "¥3,900.00 · 4 笔" in page
        assert "echarts.min.js" in page
        assert 'id="churn-table"' in page and "甲房产" in page


def test_sales_home_lists_their_overdue_bills_first(client, world, sales_user):
    client.force_login(sales_user)

    page = client.get(reverse("home")).content.decode()

    assert 'id="cockpit"' not in page
    overdue = page[page.index('id="my-overdue"') : page.index('id="my-summary"')]
    # B 2025-09 (97 days) before A 2025-10 (51 days) before A 2025-11 (20 days).
    assert overdue.index("2025-09") < overdue.index("2025-10") < overdue.index("2025-11")
    assert "¥1,900.00" in page


def test_ops_home_shows_the_month_settlement(client, world, ops_user):
    client.force_login(ops_user)

    page = client.get(reverse("home")).content.decode()

    assert "2025-12 结算状态" in page
    assert "乙经纪" in page and "丁租房" in page  # billing enabled, no December bill


@pytest.mark.django_db
def test_user_without_role_gets_a_plain_home(client):
    client.force_login(UserFactory(role=""))

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert "尚未分配角色" in response.content.decode()


def test_reports_index_is_linked_from_the_navigation(client, world, ops_user):
    client.force_login(ops_user)

    page = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("reports:index")}"' in page


def test_large_export_runs_as_a_job_scoped_to_its_owner(
    client, world, sales_user, monkeypatch, django_capture_on_commit_callbacks
):
    from accounts.models import Job

    monkeypatch.setattr("reports.views.EXPORT_INLINE_LIMIT", 2)
    client.force_login(sales_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("reports:receivables-export"), {"level": ""})

    job = Job.objects.get(kind="reports_receivables_export")
    assert response.status_code == 302
    assert response.url == reverse("accounts:job-detail", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED, job.result
    rows = list(openpyxl.load_workbook(job.result_file.open("rb")).active.values)
    assert {r[0] for r in rows[1:-1]} == {1001, 1002}  # the owner's scope, not everyone's
    assert rows[-1][6] == pytest.approx(3300.00)
    assert job.params["next_url"].startswith(reverse("reports:receivables"))


def test_htmx_request_gets_only_the_table(client, world, manager_user):
    client.force_login(manager_user)

    response = client.get(reverse("reports:receivables"), {"page": "1"}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert 'id="receivables-table"' in page and "¥5,300.00" in page
    assert "<nav" not in page.split('id="receivables-table"')[0]  # no layout around it


def test_settlement_page_rejects_a_bad_month_and_shows_the_default(client, world, manager_user):
    client.force_login(manager_user)

    response = client.get(reverse("reports:settlement"), {"month": "2025-13"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "请输入月份" in page
    assert "结算状态 · 2025-12" in page


def test_export_with_bad_filters_goes_back_to_the_page(client, world, manager_user):
    client.force_login(manager_user)

    response = client.get(
        reverse("reports:receivables-export"), {"month_from": "2025-12", "month_to": "2025-10"}
    )

    assert response.status_code == 302
    assert response.url.startswith(reverse("reports:receivables") + "?")
    assert "结束月份不能早于起始月份" in client.get(response.url).content.decode()


def test_cockpit_shows_the_24_hour_measure_over_the_chosen_period(client, manager_user):
    from decimal import Decimal

    from tests.factories import CollectionContactFactory

    # Given a customer that became overdue on 2026-11-10 and was called 2 hours later
    customer = CustomerFactory(name="驾驶舱逾期")
    ReportBillFactory(customer=customer, total=Decimal("100"), due_date=dt.date(2026, 11, 9))
    CollectionContactFactory(
        customer=customer,
        at=dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    )
    client.force_login(manager_user)

    # When the manager opens the cockpit for November
    page = client.get(
        reverse("reports:cockpit"), {"date_from": "2026-11-01", "date_to": "2026-11-30"}
    ).content.decode()

    # Then the measure reads 1 of 1 within 24 hours, with its definition
    assert 'id="measure-24h"' in page
    assert '<div class="value" id="measure-share">100%</div>' in page
    assert "到期日的次日零点" in page
