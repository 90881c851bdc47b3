"""Customer list: search with highlights, filters, sort (pinyin on PostgreSQL), columns, saved filters, query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.filters import CustomerFilter
from customers.models import Customer, DictionaryItem, SavedFilter
from customers.selectors import customer_search_q, name_order, scoped_customers
from tests.factories import ContactFactory, CustomerFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = "/customers/"


def names(response):
    return [row.record.name for row in response.context["table"].paginated_rows]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("链家", {"北京链家"}),
        ("13912345678", {"上海中原"}),
        ("张伟", {"上海中原"}),
        ("王珂", {"北京链家"}),
        ("700001", {"深圳乐有家"}),
        ("赵六", {"深圳乐有家"}),
    ],
)
def test_search_over_name_phone_contact_sales_and_company_id(
    client, ops_user, sales_user, term, expected
):
    CustomerFactory(name="北京链家", sales_owner=sales_user)
    ContactFactory(customer=CustomerFactory(name="上海中原"), name="张伟", phone="13912345678")
    CustomerFactory(name="深圳乐有家", company_id=700001, sales_owner_raw="赵六")
    client.force_login(ops_user)

    response = client.get(LIST, {"q": term})

    assert set(names(response)) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # Three characters and more: one indexed query per side, UNION-ed.
        ("北京链家", {"北京链家地产"}),
        ("Lianjia", {"LIANJIA 北京"}),
        ("张伟明", {"上海中原"}),
        ("王珂珂", {"北京链家地产"}),
        ("赵六六", {"深圳乐有家"}),
        ("700001", {"深圳乐有家"}),
        ("1391234", {"上海中原"}),
        # Shorter: the single-pass form; the same answers.
        ("链家", {"北京链家地产"}),
        ("伟明", {"上海中原"}),
        ("六六", {"深圳乐有家"}),
    ],
)
@pytest.mark.parametrize("ids_array_max", [10_000, 0], ids=["ids-array", "pk-in"])
def test_search_by_long_and_short_terms_finds_the_same_columns(
    client, ops_user, sales_user, term, expected, ids_array_max, monkeypatch
):
    # Both forms of a match (a few ids as an array, many as `pk IN`) find the same customers.
    monkeypatch.setattr("customers.selectors.IDS_ARRAY_MAX", ids_array_max)
    sales_user.full_name = "王珂珂"
    sales_user.save(update_fields=["full_name"])
    CustomerFactory(name="北京链家地产", sales_owner=sales_user)
    CustomerFactory(name="LIANJIA 北京")
    ContactFactory(customer=CustomerFactory(name="上海中原"), name="张伟明", phone="13912345678")
    CustomerFactory(name="深圳乐有家", company_id=700001, sales_owner_raw="赵六六")
    CustomerFactory(name="已删除链家", is_deleted=True, company_id=700002)
    client.force_login(ops_user)

    response = client.get(LIST, {"q": term})

    assert set(names(response)) == expected


def test_matches_are_highlighted_and_escaped(client, ops_user):
    CustomerFactory(name="<b>链家</b>地产")
    client.force_login(ops_user)

    html = client.get(LIST, {"q": "链家"}).content.decode()

    assert "&lt;b&gt;<mark>链家</mark>&lt;/b&gt;地产" in html


def test_htmx_search_returns_only_the_results_fragment(client, ops_user):
    CustomerFactory(name="北京链家")
    client.force_login(ops_user)

    response = client.get(LIST, {"q": "链家"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<nav" not in html and "共 1 个客户" in html


def test_filters_on_each_dimension(client, ops_user, sales_user):
    industry = DictionaryItem.objects.create(kind=DictionaryItem.Kind.INDUSTRY, value="房产经纪")
    tag = TagFactory(name="重点")
    target = CustomerFactory(
        name="目标", industry=industry, level="A", lifecycle_status="active", settlement_method="per_shoot",
        consumption_level="C3", billing_enabled="yes", disabled=False, sales_owner=sales_user,
    )  # fmt: skip
    target.tags.add(tag)
    target.ops_owners.add(ops_user)
    CustomerFactory(name="干扰", level="B")
    client.force_login(ops_user)

    for params in (
        {"industry": industry.pk},
        {"level": "A"},
        {"lifecycle_status": "active"},
        {"settlement_method": "per_shoot"},
        {"consumption_level": "C3"},
        {"billing_enabled": "yes"},
        {"disabled": "no"},
        {"sales_owner": sales_user.pk},
        {"ops_owner": ops_user.pk},
        {"tag": tag.pk},
    ):
        assert names(client.get(LIST, params)) == ["目标"], params


@pytest.mark.parametrize("ids_array_max", [10_000, 0], ids=["ids-array", "pk-in"])
def test_many_valued_filters_match_each_customer_once(admin_user, monkeypatch, ids_array_max):
    monkeypatch.setattr("customers.selectors.IDS_ARRAY_MAX", ids_array_max)
    east, west = (DictionaryItem.objects.create(kind="region", value=v) for v in ("华东", "华西"))
    key, new = TagFactory(), TagFactory()
    ops, other_ops = UserFactory(role="ops"), UserFactory(role="ops")
    both = CustomerFactory(name="两个都有")
    both.tags.add(key, new)
    both.regions.add(east, west)
    both.ops_owners.add(ops, other_ops)
    one = CustomerFactory(name="只有一个")
    one.tags.add(new)
    one.regions.add(west)
    one.ops_owners.add(other_ops)
    CustomerFactory(name="没有")
    CustomerFactory(name="已删除", is_deleted=True).tags.add(key)

    for params in (
        {"tag": [key.pk, new.pk]},
        {"region": [east.pk, west.pk]},
        {"ops_owner": [ops.pk, other_ops.pk]},
    ):
        customers = CustomerFilter(params, queryset=scoped_customers(admin_user)).qs

        assert sorted(c.name for c in customers) == ["两个都有", "只有一个"], params
        assert customers.count() == 2, params


def test_a_few_matching_ids_are_looked_up_by_primary_key(admin_user, monkeypatch):
    # `pk = ANY(ARRAY(...))`: PostgreSQL planned `pk IN (...)` and EXISTS as a hash join
    # over every customer (bench/customers_list.py: phone search, tag filter).
    tag = TagFactory()
    for i in range(3):
        CustomerFactory(name=f"北京链家{i}").tags.add(tag)

    def count_sql(params):
        customers = CustomerFilter(params, queryset=scoped_customers(admin_user)).qs
        with CaptureQueriesContext(connection) as ctx:
            assert customers.count() == 3
        return ctx.captured_queries[-1]["sql"]

    for params in ({"q": "北京链家"}, {"tag": tag.pk}):
        sql = count_sql(params)
        assert "= ANY((ARRAY(" in sql and "EXISTS" not in sql, params

        # More ids than IDS_ARRAY_MAX: `pk IN`, which PostgreSQL may answer by a scan.
        monkeypatch.setattr("customers.selectors.IDS_ARRAY_MAX", 2)
        assert "ANY(" not in count_sql(params) and '"id" IN (' in count_sql(params), params
        monkeypatch.undo()


def test_unresolved_sales_owner_and_unset_level_filters(admin_user):
    unresolved = CustomerFactory(sales_owner_raw="离职的人")
    CustomerFactory(level="A")

    by_unresolved = CustomerFilter(
        {"sales_unresolved": "on"}, queryset=scoped_customers(admin_user)
    ).qs
    by_unset_level = CustomerFilter({"level": "none"}, queryset=scoped_customers(admin_user)).qs

    assert list(by_unresolved) == [unresolved]
    assert unresolved in by_unset_level and by_unset_level.count() == 1


def test_series_filter_reads_price_plans(admin_user):
    from billing.models import PricePlan
    from tests.factories import DeviceSeriesFactory

    customer = CustomerFactory()
    CustomerFactory()
    series = DeviceSeriesFactory(code="X")
    fields = {f.name for f in PricePlan._meta.get_fields()}
    plan = PricePlan(customer=customer, series=series)
    if "valid_from" in fields:
        plan.valid_from = "2025-01-01"
    plan.save()

    assert list(CustomerFilter({"series": "X"}, queryset=scoped_customers(admin_user)).qs) == [
        customer
    ]


def test_sort_on_any_column(client, ops_user):
    CustomerFactory(company_id=3, name="b")
    CustomerFactory(company_id=1, name="c")
    CustomerFactory(company_id=2, name="a")
    client.force_login(ops_user)

    assert names(client.get(LIST, {"sort": "company_id"})) == ["c", "a", "b"]
    assert names(client.get(LIST, {"sort": "-company_id"})) == ["b", "a", "c"]
    assert names(client.get(LIST, {"sort": "name"})) == ["a", "b", "c"]
    for column in (
        "account_type",
        "level",
        "sales_owner",
        "lifecycle_status",
        "created_at",
        "onboarded_raw",
    ):
        assert client.get(LIST, {"sort": column}).status_code == 200


def test_names_sort_in_pinyin_order_on_postgresql(db):
    for name in ("中原地产", "安居客", "北京链家", "贝壳"):
        CustomerFactory(name=name)

    ordered = list(Customer.objects.order_by(name_order()).values_list("name", flat=True))

    assert ordered == ["安居客", "北京链家", "贝壳", "中原地产"]


def test_choose_visible_columns_is_remembered(client, ops_user):
    CustomerFactory(remarks="很重要的备注")
    client.force_login(ops_user)

    html = client.get(LIST, {"cols_set": "1", "cols": ["remarks"]}).content.decode()
    assert "很重要的备注" in html and "行业类型</a>" not in html

    again = client.get(LIST).content.decode()
    assert "很重要的备注" in again


def test_save_and_reapply_a_named_filter(client, ops_user):
    CustomerFactory(name="链家", level="A")
    CustomerFactory(name="中原", level="B")
    client.force_login(ops_user)

    response = client.post(
        reverse("customers:savedfilter-create"), {"name": "A级客户", "query": "level=A"}
    )

    saved = SavedFilter.objects.get(owner=ops_user, name="A级客户")
    assert response["Location"].endswith("?level=A")
    page = client.get(LIST)
    assert "A级客户" in page.content.decode()
    assert names(client.get(f"{LIST}?{saved.query}")) == ["链家"]
    client.post(reverse("customers:savedfilter-delete", args=[saved.pk]))
    assert not SavedFilter.objects.exists()


def test_saved_filters_are_private(client, ops_user):
    other = UserFactory(username="ops2", role="ops")
    saved = SavedFilter.objects.create(owner=other, name="别人的", query="level=A")
    client.force_login(ops_user)

    assert "别人的" not in client.get(LIST).content.decode()
    assert client.post(reverse("customers:savedfilter-delete", args=[saved.pk])).status_code == 404


def test_filtered_count_and_pagination(client, ops_user):
    CustomerFactory.create_batch(30, level="A")
    CustomerFactory.create_batch(2, level="B")
    client.force_login(ops_user)

    response = client.get(LIST, {"level": "A"})

    assert response.context["filtered_count"] == 30
    assert len(names(response)) == 25
    assert len(names(client.get(LIST, {"level": "A", "page": 2}))) == 5


def test_pages_follow_the_sort_of_the_whole_list(client, ops_user):
    # given 30 customers of three salespeople, sorted by sales owner then name
    owners = [UserFactory(role="sales", full_name=n) for n in ("王五", "张三", "李四")]
    for i in range(30):
        CustomerFactory(name=f"客户{i:02d}", sales_owner=owners[i % 3])
    client.force_login(ops_user)
    params = {"sort": "sales_owner,name"}
    expected = list(
        CustomerFilter(params, queryset=scoped_customers(ops_user)).qs.values_list(
            "name", flat=True
        )
    )

    # when both pages are read
    first = client.get(LIST, params)
    second = client.get(LIST, {**params, "page": 2})

    # then they are the sorted list cut in two, and each counts all 30
    assert names(first) + names(second) == expected
    assert first.context["filtered_count"] == second.context["filtered_count"] == 30


def test_page_rows_come_in_the_order_of_their_ids_and_only_in_scope(sales_user, other_sales_user):
    from customers.selectors import customer_list_rows

    mine = [CustomerFactory(sales_owner=sales_user) for _ in range(3)]
    theirs = CustomerFactory(sales_owner=other_sales_user)
    ids = [mine[2].pk, theirs.pk, mine[0].pk, mine[1].pk]

    rows = customer_list_rows(sales_user, ids, columns=["tags"])

    assert rows == [mine[2], mine[0], mine[1]]


def test_hidden_columns_cost_no_query(client, ops_user):
    CustomerFactory(name="甲").tags.add(TagFactory())
    client.force_login(ops_user)

    def page_sql(columns):
        client.get(LIST, {"cols_set": "1", "cols": columns})
        with CaptureQueriesContext(connection) as ctx:
            assert names(client.get(LIST)) == ["甲"]
        return " ".join(q["sql"] for q in ctx.captured_queries)

    assert "customers_customer_regions" in page_sql(["tags", "regions"])
    assert "customers_customer_regions" not in page_sql(["tags"])


def test_query_count_does_not_grow_with_rows(client, ops_user, sales_user):
    def render_count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST, {"q": "公司", "sort": "name"}).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(ops_user)
    client.get(LIST)  # the first page after login writes the session; later ones do not
    for i in range(3):
        c = CustomerFactory(name=f"公司{i}", sales_owner=sales_user)
        c.tags.add(TagFactory())
        c.ops_owners.add(ops_user)
    render_count()  # the first request records the search; its repeats only read it
    few = render_count()
    for i in range(30):
        c = CustomerFactory(name=f"公司x{i}", sales_owner=sales_user)
        c.tags.add(TagFactory(name=f"标签x{i}"))
        c.ops_owners.add(ops_user)

    assert render_count() == few
    # The related columns come from the page's prefetched lists, and show.
    html = client.get(LIST, {"q": "公司x1", "sort": "name"}).content.decode()
    assert '<span class="badge text-bg-secondary">标签x1</span>' in html
    assert f'<td class="col-ops_owners">{ops_user.display_name}</td>' in html


def test_renewal_reminders_on_the_list_respect_scope_and_lead_time(
    client, sales_user, other_sales_user
):
    from datetime import timedelta

    from django.utils import timezone

    from customers.models import Renewal

    today = timezone.localdate()
    own = CustomerFactory(name="快到期", sales_owner=sales_user)
    later = CustomerFactory(name="还早", sales_owner=sales_user)
    foreign = CustomerFactory(name="别人的到期", sales_owner=other_sales_user)
    Renewal.objects.create(
        customer=own, expires_on=today + timedelta(days=10), remind_days_before=30
    )
    Renewal.objects.create(
        customer=later, expires_on=today + timedelta(days=90), remind_days_before=30
    )
    Renewal.objects.create(customer=foreign, expires_on=today + timedelta(days=5))
    client.force_login(sales_user)

    html = client.get(LIST).content.decode()

    assert "1 个续约即将到期" in html
    assert "快到期" in html and "别人的到期" not in html


def test_date_range_filters(admin_user):
    from datetime import date, timedelta

    from django.utils import timezone

    from customers.models import Renewal

    old = CustomerFactory(name="老客户")
    Customer.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    new = CustomerFactory(name="新客户")
    Renewal.objects.create(customer=new, expires_on=date(2026, 6, 30))
    today = timezone.localdate()
    qs = scoped_customers(admin_user)

    created_recently = CustomerFilter(
        {"created_after": (today - timedelta(days=30)).isoformat()}, queryset=qs
    ).qs
    expiring_mid_2026 = CustomerFilter(
        {"renewal_expires_after": "2026-06-01", "renewal_expires_before": "2026-07-01"}, queryset=qs
    ).qs

    assert list(created_recently) == [new]
    assert list(expiring_mid_2026) == [new]


def test_attention_reminders_on_the_list(client, ops_user):
    from datetime import timedelta

    from django.utils import timezone

    from customers.models import AttentionItem

    today = timezone.localdate()
    soon = CustomerFactory(name="需回访")
    AttentionItem.objects.create(
        customer=soon, category="risk", text="付款慢", remind_on=today + timedelta(days=3)
    )
    AttentionItem.objects.create(
        customer=CustomerFactory(name="还远"),
        category="risk",
        text="x",
        remind_on=today + timedelta(days=30),
    )
    client.force_login(ops_user)

    html = client.get(LIST).content.decode()

    assert "7 天内的特别关注提醒" in html and "需回访（" in html and "还远（" not in html


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("lianjia", {"LIANJIA 北京"}),  # the name
        ("ZHANG WEI", {"上海中原"}),  # a contact's name
        ("zhao liu", {"深圳乐有家"}),  # an unmatched sales owner's name
        ("Ao", {"深圳乐有家"}),  # too short for a trigram: the single pass
        ("50%", {"50% Off 店"}),  # LIKE's wildcards are literal
        ("f_o", set()),
    ],
)
def test_latin_letters_are_searched_without_regard_to_case(client, ops_user, term, expected):
    CustomerFactory(name="LIANJIA 北京")
    CustomerFactory(name="50% Off 店")
    CustomerFactory(name="500 Off 店")
    ContactFactory(customer=CustomerFactory(name="上海中原"), name="Zhang Wei")
    CustomerFactory(name="深圳乐有家", sales_owner_raw="Zhao Liu")
    client.force_login(ops_user)

    response = client.get(LIST, {"q": term})

    assert set(names(response)) == expected


@pytest.mark.parametrize("term", ["Lianjia", "北京链家", "销售03", "1054321", "13800001"])
def test_every_arm_of_a_search_is_answered_by_an_index(term):
    """With sequential scans priced out, a plan still holds one where no index can answer an
    arm: a Latin-letter search was one (UPPER(sales_owner_raw) had no index)."""
    CustomerFactory(name="北京链家", sales_owner_raw="Zhao Liu")
    queryset = Customer.objects.filter(customer_search_q(term)).values("pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()

    assert "Seq Scan" not in plan, plan


def test_the_admin_finds_customers_by_latin_letters_in_any_case(admin_client):
    CustomerFactory(name="LianJia 北京", company_id=880001)
    CustomerFactory(name="中原地产", company_id=880002)

    html = admin_client.get(reverse("admin:customers_customer_changelist"), {"q": "lianjia"})

    assert "LianJia 北京" in html.content.decode() and "中原地产" not in html.content.decode()


def test_the_search_boxs_results_read_only_the_choice_lists_its_filters_set(client, ops_user):
    # The results fragment draws no filter form: the dictionary, people, tag and series
    # lists are read only for a filter the request sets (to validate its value).
    tag = TagFactory(name="重点")
    CustomerFactory(name="甲公司").tags.add(tag)
    CustomerFactory(name="乙公司")
    client.force_login(ops_user)
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
    client.get(LIST, {"cols_set": "1", "cols": ["level"]})  # no tags column: no tag rows read
    client.get(LIST, {"q": "公司"}, **htmx)  # the first search is recorded; repeats only read

    def tables_read(params):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(LIST, params, **htmx)
        sql = " ".join(q["sql"] for q in ctx.captured_queries)
        read = {
            t
            for t in ("customers_dictionaryitem", "customers_tag", "customers_deviceseries")
            if f'FROM "{t}"' in sql
        }
        return names(response), read

    assert tables_read({"q": "公司"}) == (["甲公司", "乙公司"], set())
    assert tables_read({"q": "公司", "tag": tag.pk}) == (["甲公司"], {"customers_tag"})
    # A value not among the choices is still refused as the full page refuses it.
    assert tables_read({"q": "公司", "tag": 999999})[0] == names(
        client.get(LIST, {"q": "公司", "tag": 999999})
    )
    # The full page draws every list.
    with CaptureQueriesContext(connection) as ctx:
        client.get(LIST, {"q": "公司"})
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert 'FROM "customers_dictionaryitem"' in sql and 'FROM "customers_tag"' in sql


def test_the_batch_owner_dropdown_and_its_query_only_for_who_may_assign_owners(
    client, ops_user, sales_user
):
    CustomerFactory(name="甲", sales_owner=sales_user)

    def page(user):
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(LIST).content.decode()
        owner_query = any("'sales', 'ops', 'admin'" in q["sql"] for q in ctx.captured_queries)
        return 'name="owner"' in html, owner_query

    assert page(ops_user) == (True, True)
    assert page(sales_user) == (False, False)
