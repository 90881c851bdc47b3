"""Customer export: scope, filter, selection, formats, formula neutralising, the job for big exports."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from accounts.models import Job
from customers import exports
from customers.exports import export_queryset, export_write
from customers.importers import import_analyse, table_open
from tests.factories import CustomerFactory, TagFactory

ALL_FIELDS = list(exports.EXPORT_FIELDS)


@pytest.fixture
def tag():
    return TagFactory(name="重点")


def xlsx_rows(content: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


@pytest.mark.django_db
def test_formula_like_text_is_neutralised_in_xlsx_and_csv():
    CustomerFactory(
        company_id=1,
        name='=HYPERLINK("http://x","点我")',
        remarks="+1+2",
        cooperation_note="@SUM(A1)",
    )
    CustomerFactory(company_id=2, name="-2+3", remarks="正常")
    queryset = exports.Customer.objects.all()

    xlsx = io.BytesIO()
    export_write(
        queryset=queryset,
        fields=["company_id", "name", "remarks", "cooperation"],
        fmt="xlsx",
        output=xlsx,
    )
    book = openpyxl.load_workbook(io.BytesIO(xlsx.getvalue()))
    sheet = book.active
    assert sheet.cell(2, 2).data_type == "s"
    assert sheet.cell(2, 2).value.startswith("=HYPERLINK")
    assert sheet.cell(2, 2).quotePrefix
    assert (
        sheet.cell(3, 2).quotePrefix
        and sheet.cell(2, 3).quotePrefix
        and sheet.cell(2, 4).quotePrefix
    )
    assert not sheet.cell(3, 3).quotePrefix

    out = io.BytesIO()
    export_write(queryset=queryset, fields=["company_id", "name", "remarks"], fmt="csv", output=out)
    content = out.getvalue()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["公司id", "公司名称", "备注"]
    assert rows[1] == ["1", '\'=HYPERLINK("http://x","点我")', "'+1+2"]
    assert rows[2] == ["2", "'-2+3", "正常"]


@pytest.mark.django_db
def test_export_reimports_unchanged():
    CustomerFactory(
        company_id=7,
        name="甲",
        level="A",
        billing_enabled="yes",
        disabled=False,
        monthly_avg_shots=3,
    )
    out = io.BytesIO()
    export_write(queryset=exports.Customer.objects.all(), fields=ALL_FIELDS, fmt="xlsx", output=out)

    plan = import_analyse(table_open(io.BytesIO(out.getvalue()), filename="e.xlsx"))

    assert [r.status for r in plan.rows] == ["unchanged"]


@pytest.mark.django_db
def test_export_respects_scope_filter_and_selection(sales_user, other_sales_user):
    mine = CustomerFactory(name="我的甲", sales_owner=sales_user, level="A")
    CustomerFactory(name="我的乙", sales_owner=sales_user, level="B")
    theirs = CustomerFactory(name="别人的", sales_owner=other_sales_user, level="A")

    assert set(export_queryset(user=sales_user)) == {
        mine,
        mine.__class__.objects.get(name="我的乙"),
    }
    assert list(export_queryset(user=sales_user, scope="filter", params={"level": "A"})) == [mine]
    assert list(export_queryset(user=sales_user, scope="selection", ids=[mine.pk, theirs.pk])) == [
        mine
    ]


@pytest.mark.django_db
def test_export_view_downloads_small_export(client, sales_user, other_sales_user):
    CustomerFactory(name="我的甲", sales_owner=sales_user)
    CustomerFactory(name="别人的", sales_owner=other_sales_user)
    client.force_login(sales_user)

    page = client.get(reverse("customers:export-start"))
    response = client.post(
        reverse("customers:export-start"),
        {"scope": "all", "format": "xlsx", "fields": ["company_id", "name"]},
    )

    assert page.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    names = [r[1] for r in xlsx_rows(response.content)[1:]]
    assert names == ["我的甲"]


@pytest.mark.django_db
def test_big_export_runs_as_job(client, ops_user, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(exports, "SYNC_MAX_ROWS", 2)
    CustomerFactory.create_batch(5)
    client.force_login(ops_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("customers:export-start") + "?level=",
            {"scope": "filter", "format": "csv", "fields": ["company_id", "name"]},
        )

    job = Job.objects.get(kind="customer_export")
    assert response.url == reverse("customers:export-result", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED and job.result == {"导出客户": 5}
    download = client.get(reverse("accounts:job-file", args=[job.pk, "result"]))
    content = b"".join(download.streaming_content).decode("utf-8-sig")
    assert len(content.strip().splitlines()) == 6


@pytest.mark.django_db
def test_selection_without_ids_is_refused(client, ops_user):
    client.force_login(ops_user)

    response = client.post(
        reverse("customers:export-start"),
        {"scope": "selection", "format": "xlsx", "fields": ["name"]},
    )

    assert "没有选中客户" in response.content.decode()


@pytest.mark.django_db
def test_another_users_export_job_is_404(client, ops_user, sales_user):
    job = Job.objects.create(kind="customer_export", created_by=ops_user, params={})
    client.force_login(sales_user)

    assert client.get(reverse("customers:export-result", args=[job.pk])).status_code == 404
    assert client.get(reverse("accounts:job-file", args=[job.pk, "result"])).status_code == 404


@pytest.mark.django_db
def test_navigation_links_import_only_for_import_roles(client, ops_user, sales_user):
    client.force_login(ops_user)
    assert (
        reverse("customer_import:start")
        in client.get(reverse("customers:export-start")).content.decode()
    )

    client.force_login(sales_user)
    page = client.get(reverse("customers:export-start")).content.decode()
    assert reverse("customer_import:start") not in page
    assert reverse("customers:export-start") in page


def list_names(client, query: str) -> set[str]:
    response = client.get(f"{reverse('customers:customer-list')}?{query}")
    return {row.record.name for row in response.context["table"].paginated_rows}


@pytest.mark.django_db
def test_export_of_filtered_list_returns_exactly_the_listed_customers(client, ops_user, tag):
    # Given a list filtered by search, level and tag, with paging/sorting/column parameters
    wanted = CustomerFactory(name="杭州甲", level="A")
    wanted.tags.add(tag)
    CustomerFactory(name="杭州乙", level="A")  # no tag
    CustomerFactory(name="宁波丙", level="A").tags.add(tag)  # search misses
    CustomerFactory(name="杭州丁", level="B").tags.add(tag)  # level misses
    client.force_login(ops_user)
    query = f"q=杭州&level=A&tag={tag.pk}&page=1&sort=name&cols_set=1&cols=level"

    # When the list's export link posts with the list's GET parameters
    response = client.post(
        f"{reverse('customers:export-start')}?{query}&scope=filter",
        {"scope": "filter", "format": "xlsx", "fields": ["company_id", "name"]},
    )

    # Then the file holds exactly the customers the list shows
    exported = {r[1] for r in xlsx_rows(response.content)[1:]}
    assert exported == list_names(client, query) == {"杭州甲"}


@pytest.mark.django_db
def test_sales_export_of_a_filter_stays_in_their_scope(client, sales_user, other_sales_user):
    CustomerFactory(name="我的A", sales_owner=sales_user, level="A")
    CustomerFactory(name="我的B", sales_owner=sales_user, level="B")
    CustomerFactory(name="别人的A", sales_owner=other_sales_user, level="A")
    client.force_login(sales_user)

    filtered = client.post(
        f"{reverse('customers:export-start')}?level=A",
        {"scope": "filter", "format": "csv", "fields": ["name"]},
    )
    everything = client.post(
        reverse("customers:export-start"), {"scope": "all", "format": "csv", "fields": ["name"]}
    )

    def names(response) -> list[str]:
        return [r[0] for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))][1:]

    assert names(filtered) == ["我的A"]
    assert sorted(names(everything)) == ["我的A", "我的B"]


@pytest.mark.django_db
def test_export_of_the_selection_ignores_ids_outside_scope(client, sales_user, other_sales_user):
    mine = CustomerFactory(name="我的", sales_owner=sales_user)
    CustomerFactory(name="我的未选", sales_owner=sales_user)
    theirs = CustomerFactory(name="别人的", sales_owner=other_sales_user)
    client.force_login(sales_user)
    url = f"{reverse('customers:export-start')}?level=&ids={mine.pk},{theirs.pk}&scope=selection"

    page = client.get(url)
    response = client.post(
        url,
        {
            "scope": "selection",
            "ids": f"{mine.pk},{theirs.pk}",
            "format": "xlsx",
            "fields": ["name"],
        },
    )

    assert page.context["form"]["scope"].value() == "selection"
    assert "已选 2 个客户" in page.content.decode()
    assert [r[0] for r in xlsx_rows(response.content)[1:]] == ["我的"]


@pytest.mark.django_db
def test_background_export_keeps_the_filter(
    client, ops_user, tag, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "SYNC_MAX_ROWS", 1)
    for name in ("甲", "乙"):
        CustomerFactory(name=name, level="A").tags.add(tag)
    CustomerFactory(name="丙", level="A")
    client.force_login(ops_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"{reverse('customers:export-start')}?level=A&tag={tag.pk}",
            {"scope": "filter", "format": "csv", "fields": ["name"]},
        )

    job = Job.objects.get(kind="customer_export")
    assert job.params["filter"] == f"level=A&tag={tag.pk}"
    assert job.result == {"导出客户": 2}


@pytest.mark.django_db
def test_customer_list_offers_import_and_export_with_the_current_filter(
    client, ops_user, sales_user
):
    client.force_login(ops_user)
    ops_page = client.get(reverse("customers:customer-list") + "?level=A&page=1").content.decode()
    client.force_login(sales_user)
    sales_page = client.get(reverse("customers:customer-list") + "?level=A").content.decode()

    export = reverse("customers:export-start")
    assert f'href="{reverse("customer_import:start")}"' in ops_page
    assert f'href="{export}?level=A&amp;scope=filter"' in ops_page
    assert f'href="{export}?scope=all"' in ops_page
    assert reverse("customer_import:start") not in sales_page
    assert f'href="{export}?level=A&amp;scope=filter"' in sales_page


def test_filter_params_drop_paging_and_keep_repeated_keys_and_sort():
    from django.http import QueryDict

    query = exports.filter_params(QueryDict("q=a&tag=1&tag=2&page=3&sort=name&ids=4&scope=all"))

    # sort stays: CustomerFilter orders by it, so the export keeps the list's order.
    assert query.urlencode() == "q=a&tag=1&tag=2&sort=name"
    assert exports.filter_params({"level": "A", "tag": ["1", "2"]}).getlist("tag") == ["1", "2"]
    assert exports.filter_params("level=B&page=2").urlencode() == "level=B"


@pytest.mark.django_db
def test_export_with_sections_has_one_sheet_per_section_keyed_by_company_id(client, ops_user):
    # issue 18: every section on a sheet of its own, each row starting with the 公司id
    from customers.section_exports import SECTION_SHEETS
    from tests.factories import AdAccountFactory, ContactFactory, ProjectFactory

    first = CustomerFactory(company_id=7001, name="栏目甲")
    second = CustomerFactory(company_id=7002, name="栏目乙")
    outside = CustomerFactory(company_id=7003, name="不在筛选内")
    ContactFactory(customer=first, name="甲联系人", phone="13800000001")
    ProjectFactory(customer=first, name="甲项目")
    ProjectFactory(customer=second, name="乙项目")
    AdAccountFactory(customer=second, account_id="AD-7002", monthly_spend="1500.00")
    ProjectFactory(customer=outside, name="外面的项目")
    client.force_login(ops_user)

    response = client.post(
        f"{reverse('customers:export-start')}?q=栏目&scope=filter",
        {"scope": "filter", "format": "xlsx", "fields": ["company_id", "name"], "sections": "on"},
    )

    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["客户", *(title for title, _, _ in SECTION_SHEETS)]
    sheets = {s.title: list(s.iter_rows(values_only=True)) for s in book.worksheets}
    for title, _, _ in SECTION_SHEETS:
        assert sheets[title][0][0] == "公司id", title
    projects = sheets["项目"]
    assert projects[0][:2] == ("公司id", "项目名称")
    assert [row[:2] for row in projects[1:]] == [(7001, "甲项目"), (7002, "乙项目")]
    assert [row[:2] for row in sheets["联系人"][1:]] == [(7001, "甲联系人")]
    ads = sheets["广告账户"]
    header = ads[0]
    row = dict(zip(header, ads[1], strict=True))
    assert row["公司id"] == 7002 and row["账户ID"] == "AD-7002" and row["月消耗（元）"] == 1500
    assert len(ads) == 2


@pytest.mark.django_db
def test_sections_need_excel(client, ops_user):
    client.force_login(ops_user)

    response = client.post(
        f"{reverse('customers:export-start')}?scope=all",
        {"scope": "all", "format": "csv", "fields": ["company_id"], "sections": "on"},
    )

    assert "导出全部栏目请选择 Excel" in response.content.decode()
