"""Q&A across customers: search stays within scope; statistics by category and month."""

from datetime import date

import pytest
from django.urls import reverse

from customers.qa.selectors import issue_stats, issues_search, scoped_issues
from tests.factories import CustomerFactory, QualityIssueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issues(sales_user, other_sales_user):
    mine = CustomerFactory(name="我的客户", sales_owner=sales_user)
    theirs = CustomerFactory(name="别人的客户", sales_owner=other_sales_user)
    return {
        "mine_late": QualityIssueFactory(
            customer=mine, category="服务问题", description="交付延迟两天", status="done",
            occurred_on=date(2026, 10, 3),
        ),
        "mine_bug": QualityIssueFactory(
            customer=mine, category="技术问题", description="模型加载失败",
            lessons_learned="交付前检查延迟", occurred_on=date(2026, 11, 5),
        ),
        "theirs_late": QualityIssueFactory(
            customer=theirs, category="服务问题", description="交付延迟一周",
            occurred_on=date(2026, 11, 9),
        ),
    }  # fmt: skip


def test_search_finds_words_in_any_text_field_within_scope_only(sales_user, issues):
    found = set(issues_search(sales_user, text="延迟"))

    assert found == {issues["mine_late"], issues["mine_bug"]}  # lessons_learned matched too
    assert issues["theirs_late"] not in found


def test_ops_search_spans_all_customers_and_facets_narrow(ops_user, issues):
    assert set(issues_search(ops_user, text="延迟")) == set(issues.values())
    assert set(issues_search(ops_user, categories=["技术问题"])) == {issues["mine_bug"]}
    assert set(issues_search(ops_user, statuses=["done"])) == {issues["mine_late"]}
    assert set(issues_search(ops_user, date_from=date(2026, 11, 1))) == {
        issues["mine_bug"],
        issues["theirs_late"],
    }


def test_statistics_by_category_and_month(ops_user, sales_user, issues):
    stats = issue_stats(scoped_issues(ops_user))
    own_stats = issue_stats(scoped_issues(sales_user))

    by_category = {r["category"]: (r["total"], r["resolved_pct"]) for r in stats["by_category"]}
    assert by_category == {"服务问题": (2, 50), "技术问题": (1, 0)}
    months = {r["month"].strftime("%Y-%m"): r["counts"] for r in stats["by_month"]}
    assert stats["categories"] == ["服务问题", "技术问题"]
    assert months == {"2026-10": [1, 0], "2026-11": [1, 1]}
    assert {r["category"]: r["total"] for r in own_stats["by_category"]} == {
        "服务问题": 1,
        "技术问题": 1,
    }


def test_search_page_shows_only_scoped_results(client, sales_user, issues):
    client.force_login(sales_user)

    html = client.get(reverse("customers:issue-search"), {"q": "交付延迟"}).content.decode()

    assert "交付延迟两天" in html and "交付延迟一周" not in html
    assert "共 1 条" in html
