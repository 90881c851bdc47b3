"""Multi-select, date ranges, regions and multi-column sort through the one CustomerFilter.

The list page, the export and the API read the same parameters and must give
the same customers in the same order.
"""

import io
from datetime import date

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from customers.models import CooperationDetail, RecentSearch
from customers.services import recent_search_record
from tests.factories import CustomerFactory, DictionaryItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    east = DictionaryItemFactory(value="华东")
    north = DictionaryItemFactory(value="华北")
    rows = {
        "a1": CustomerFactory(company_id=501, name="甲一", level="A", lifecycle_status="active"),
        "a2": CustomerFactory(company_id=502, name="甲二", level="A", lifecycle_status="dormant"),
        "b1": CustomerFactory(company_id=503, name="乙一", level="B", lifecycle_status="active"),
        "c1": CustomerFactory(company_id=504, name="丙一", level="C", lifecycle_status="active"),
        "s1": CustomerFactory(company_id=505, name="丁一", level="S", lifecycle_status="churned"),
    }
    rows["a1"].regions.add(east)
    rows["b1"].regions.add(north)
    rows["c1"].regions.add(east, north)
    for key, start, service in (
        ("a1", date(2025, 3, 1), date(2025, 4, 1)),
        ("a2", date(2025, 9, 1), date(2025, 9, 15)),
        ("b1", date(2026, 2, 1), None),
    ):
        CooperationDetail.objects.create(
            customer=rows[key], contract_start=start, service_start=service
        )
    return {**rows, "east": east, "north": north}


def html_ids(client, params) -> list[int]:
    html = client.get(reverse("customers:customer-list"), params).content.decode()
    import re

    return [int(m) for m in re.findall(r'<td class="col-company_id">(\d+)</td>', html)]


def export_ids(client, params) -> list[int]:
    query = "&".join(f"{k}={v}" for k, values in params.items() for v in _list(values))
    response = client.post(
        f"{reverse('customers:export-start')}?{query}&scope=filter",
        {"scope": "filter", "format": "xlsx", "fields": ["company_id", "name"]},
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [int(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True)]


def api_ids(user, params) -> list[int]:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    data = api.get("/api/customers/", params).json()
    rows = data["results"] if isinstance(data, dict) else data
    return [row["company_id"] for row in rows]


def _list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"level": ["A", "B"], "sort": "-level,name"}, [503, 502, 501]),
        ({"level": ["A", "B", "C"], "sort": "lifecycle_status,-company_id"}, [504, 503, 501, 502]),
        ({"lifecycle_status": ["active", "churned"], "sort": "-company_id"}, [505, 504, 503, 501]),
        ({"contract_start_after": "2025-06-01", "sort": "company_id"}, [502, 503]),
        ({"contract_start_before": "2025-12-31", "sort": "-contract_start"}, [502, 501]),
        (
            {
                "service_start_after": "2025-04-01",
                "service_start_before": "2025-09-30",
                "level": ["A", "B"],
                "sort": "-service_start",
            },
            [502, 501],
        ),
    ],
    ids=[
        "two-levels",
        "status-then-id",
        "two-statuses",
        "contract-from",
        "contract-to",
        "service-range-and-levels",
    ],
)
def test_html_export_and_api_agree(client, ops_user, customers, params, expected):
    client.force_login(ops_user)

    assert html_ids(client, params) == expected
    assert export_ids(client, params) == expected
    assert api_ids(ops_user, params) == expected


def test_region_multi_select(client, ops_user, customers):
    client.force_login(ops_user)
    params = {"region": [customers["east"].pk, customers["north"].pk], "sort": "company_id"}

    assert html_ids(client, params) == [501, 503, 504]
    assert api_ids(ops_user, {"region": customers["north"].pk, "sort": "company_id"}) == [503, 504]


def test_sort_header_offers_a_secondary_key(client, ops_user, customers):
    client.force_login(ops_user)

    html = client.get(reverse("customers:customer-list"), {"sort": "level"}).content.decode()

    assert "sort=level%2Cname" in html or "sort=level,name" in html
    assert (
        "（多列排序）"
        in client.get(reverse("customers:customer-list"), {"sort": "level,-name"}).content.decode()
    )


def test_last_ten_searches_are_kept_per_user(client, ops_user, sales_user, customers):
    for i in range(12):
        recent_search_record(user=ops_user, query=f"q=客户{i}", label=f"客户{i}")
    recent_search_record(user=ops_user, query="q=客户5", label="客户5")  # a repeat moves up
    recent_search_record(user=sales_user, query="q=别人", label="别人")

    mine = list(RecentSearch.objects.filter(owner=ops_user).values_list("label", flat=True))

    assert len(mine) == 10
    assert mine[0] == "客户5" and "客户0" not in mine and "别人" not in mine


def test_repeating_the_latest_search_writes_nothing(ops_user):
    recent_search_record(user=ops_user, query="q=链家", label="“链家”")
    recent_search_record(user=ops_user, query="level=A", label="客户等级：A")
    with CaptureQueriesContext(connection) as again:
        recent_search_record(user=ops_user, query="level=A", label="客户等级：A")
    recent_search_record(user=ops_user, query="q=链家", label="“链家”")  # not the latest

    writes = [q["sql"] for q in again.captured_queries if not q["sql"].startswith("SELECT")]
    assert writes == []
    labels = list(RecentSearch.objects.filter(owner=ops_user).values_list("label", flat=True))
    assert labels == ["“链家”", "客户等级：A"]


def test_list_request_records_the_search_with_a_readable_label(client, ops_user, customers):
    client.force_login(ops_user)

    client.get(reverse("customers:customer-list"), {"level": ["A", "B"], "page": "1"})
    html = client.get(reverse("customers:customer-list")).content.decode()

    search = RecentSearch.objects.get(owner=ops_user)
    assert search.query == "level=A&level=B"
    assert search.label == "客户等级：A、B"
    assert 'id="recent-searches"' in html and "客户等级：A、B" in html


@pytest.mark.django_db(transaction=True)
def test_two_tabs_recording_the_same_search_at_once_both_succeed():
    import threading
    import time

    from django.db import connection, transaction

    from tests.factories import UserFactory

    user = UserFactory(role="ops", username="ops_two_tabs")
    first_recorded = threading.Event()
    errors: list[Exception] = []

    def first_tab():
        try:
            with transaction.atomic():
                recent_search_record(user=user, query="level=A", label="客户等级：A")
                first_recorded.set()
                time.sleep(0.5)  # the second tab's write arrives before this one commits
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            first_recorded.set()
            connection.close()

    def second_tab():
        first_recorded.wait(5)
        try:
            recent_search_record(user=user, query="level=A", label="客户等级：A")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    # When two requests of one user record the same search at the same moment
    tabs = [threading.Thread(target=first_tab), threading.Thread(target=second_tab)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(10)

    # Then neither fails (a 500 in the load bench) and the search is kept once
    assert errors == []
    assert RecentSearch.objects.filter(owner=user, query="level=A").count() == 1
