"""Importer rules on the sample workbook and on small built files: normalising, classification, commit."""

from __future__ import annotations

import collections
import io
from unittest import mock

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from customers import importers
from customers.importers import (
    ImportedPrice,
    import_analyse,
    import_commit,
    parse_half_year,
    split_people,
    table_open,
)
from customers.models import Customer, DictionaryItem, LifecycleStatus
from tests.factories import CustomerFactory, UserFactory

from .import_files import SAMPLE, row, standard, xlsx_bytes


def analyse(data: bytes, filename: str = "t.xlsx", **kwargs):
    return import_analyse(
        table_open(io.BytesIO(data), filename=filename), filename=filename, **kwargs
    )


def run(data: bytes, filename: str = "t.xlsx", user=None, **kwargs):
    plan = analyse(data, filename, **kwargs)
    counts = import_commit(plan=plan, user=user, source="test")
    return plan, counts


# --- the sample workbook -------------------------------------------------------


@pytest.mark.django_db
def test_sample_imports_every_row_but_the_repeated_id_pair(ops_user):
    UserFactory(role=Role.SALES, username="wk", full_name="王珂")

    plan, counts = run(SAMPLE.read_bytes(), "customers_sample.xlsx", user=ops_user)

    assert counts["created"] == 1318
    assert counts["invalid"] == 2
    assert Customer.objects.count() == 1318
    assert not Customer.objects.filter(company_id=1063).exists()
    invalid = [r for r in plan.rows if r.status == "invalid"]
    assert [r.company_id for r in invalid] == [1063, 1063]
    assert all("重复" in r.errors[0] for r in invalid)
    warnings = [w for r in plan.rows for w in r.warnings]
    assert any(w.startswith("公司名称“普通用户”") for w in warnings)
    assert any("销售负责人“赵一鸣”未匹配到系统用户" in w for w in warnings)
    assert not any("“王珂”" in w for w in warnings)
    assert plan.series_code == "L"
    assert Customer.objects.filter(sales_owner__full_name="王珂").count() == 18


@pytest.mark.django_db
def test_sample_warnings_are_only_what_a_clerk_acts_on():
    # Given the demo users (accounts seed_demo), whose names the sample's owner columns use
    from accounts.management.commands.seed_demo import DEMO_USERS

    for username, full_name, role in DEMO_USERS:
        UserFactory(username=username, full_name=full_name, role=role)

    plan = analyse(SAMPLE.read_bytes(), "customers_sample.xlsx")

    # Then #N/A, 0, —, - and empty cells raise nothing; what is left is names that
    # match no user and companies named like an earlier row (747 names for 1,318 rows).
    warnings = collections.Counter(w for r in plan.rows for w in r.warnings)
    same_name = {w: n for w, n in warnings.items() if w.startswith("公司名称")}
    assert {w: n for w, n in warnings.items() if w not in same_name} == {
        "销售负责人“冯雪”未匹配到系统用户，已保留原文": 11,
        "销售负责人“陈立”未匹配到系统用户，已保留原文": 9,
        "销售负责人“吴凡”未匹配到系统用户，已保留原文": 8,
        "销售负责人“周文”未匹配到系统用户，已保留原文": 8,
        "销售负责人“郑强”未匹配到系统用户，已保留原文": 7,
        "运营负责人“高远”未匹配到系统用户，已保留原文": 3,
        "运营负责人“何平”未匹配到系统用户，已保留原文": 1,
    }
    assert sum(same_name.values()) == 573  # every repeat once, pointing at the first row
    assert warnings["公司名称“普通用户”与第 33 行（公司id 53）相同"] == 14
    by_row = {r.row_number: r.warnings for r in plan.rows}
    assert by_row[2] == []  # the first 广州锦绣租赁服务有限公司 is not itself a problem
    assert by_row[14] == ["公司名称“广州锦绣租赁服务有限公司”与第 2 行（公司id 2）相同"]
    assert plan.counts()["warnings"] == 620


@pytest.mark.django_db
def test_new_customer_named_like_an_archived_one_is_a_warning():
    CustomerFactory(company_id=7, name="甲公司")

    plan = analyse(standard(row(8, "甲公司"), row(7, "甲公司")))

    assert plan.rows[0].warnings == ["公司名称“甲公司”与已有客户（公司id 7）相同"]
    assert plan.rows[1].warnings == ["公司名称“甲公司”与第 2 行（公司id 8）相同"]


@pytest.mark.django_db
def test_sample_reimport_is_all_unchanged():
    run(SAMPLE.read_bytes())

    plan, counts = run(SAMPLE.read_bytes())

    assert counts == {**counts, "created": 0, "updated": 0, "unchanged": 1318, "invalid": 2}
    staged_rows = [r for r in plan.rows if r.price and r.status != "invalid"]
    assert ImportedPrice.objects.count() == len(staged_rows) > 100


@pytest.mark.django_db
def test_import_is_one_audit_entry_with_counts_and_actor(ops_user):
    before = LogEntry.objects.count()

    run(standard(row(1, "甲公司"), row(2, "乙公司")), user=ops_user)

    assert LogEntry.objects.count() == before + 1
    entry = LogEntry.objects.latest("timestamp")
    assert entry.actor == ops_user
    assert entry.additional_data["created"] == 2
    assert "新增 2" in entry.changes_text


# --- normalising ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("25上半年", (2025, 1)),
        ("25下半年", (2025, 2)),
        ("26年上半年", (2026, 1)),
        ("2025下半年", (2025, 2)),
        ("明年", None),
    ],
)
def test_half_year_periods(text, period):
    assert parse_half_year(text) == period


def test_ops_owner_cells_split_on_newlines():
    assert split_people(" @郭富乾\n @张随军") == ["郭富乾", "张随军"]
    assert split_people(" @钱多\n @钱多") == ["钱多"]
    assert split_people("-") == []


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["#N/A", "0", "—", "-", "  ", None])
def test_missing_tokens_in_person_columns(token):
    plan = analyse(standard(row(1, "甲", sales_owner=token, ops_owners=token)))

    values = plan.rows[0].values
    assert "sales_owner_id" not in values and "sales_owner_raw" not in values
    assert plan.rows[0].ops_user_ids is None
    assert plan.rows[0].warnings == []


@pytest.mark.django_db
def test_owners_resolved_by_full_name_and_unresolved_kept():
    ops = UserFactory(role=Role.OPS, username="o1", full_name="郭富乾")
    sales = UserFactory(role=Role.SALES, username="s1", full_name="王珂")

    plan, _ = run(standard(row(1, "甲", sales_owner="王珂", ops_owners=" @郭富乾\n @张随军")))
    run(standard(row(2, "乙", sales_owner="无名氏")))

    first = Customer.objects.get(company_id=1)
    assert first.sales_owner == sales
    assert list(first.ops_owners.all()) == [ops]
    assert first.ops_owners_raw == "张随军"
    assert any("张随军" in w for w in plan.rows[0].warnings)
    second = Customer.objects.get(company_id=2)
    assert second.sales_owner is None and second.sales_owner_raw == "无名氏"


@pytest.mark.django_db
def test_cooperation_text_mapped_and_kept():
    plan, _ = run(
        standard(
            row(1, "甲", cooperation="近一年未使用"),
            row(2, "乙", cooperation="待确认  @孙晓"),
            row(3, "丙", cooperation="很奇怪的状态"),
        )
    )

    c1, c2, c3 = Customer.objects.order_by("company_id")
    assert (c1.lifecycle_status, c1.cooperation_note) == (LifecycleStatus.DORMANT, "近一年未使用")
    assert (c2.lifecycle_status, c2.cooperation_note) == (
        LifecycleStatus.POTENTIAL,
        "待确认  @孙晓",
    )
    assert c3.cooperation_note == "很奇怪的状态"
    assert any("未配置" in w for w in plan.rows[2].warnings)


@pytest.mark.django_db
def test_yes_no_pending_numbers_as_text_and_codes():
    run(
        standard(
            row(
                "1063",
                "甲",
                billing_enabled="待确认",
                disabled="是",
                level="#N/A",
                consumption_level="0",
                monthly_avg_shots="12",
                settlement_method="包年限量套餐",
                onboarded="26年上半年",
                industry="房产经纪",
            ),
            row(2.0, "乙", billing_enabled="是", disabled="否", level="a", monthly_avg_shots=7.0),
        )
    )

    c1 = Customer.objects.get(company_id=1063)
    assert c1.billing_enabled == Customer.BillingEnabled.PENDING
    assert c1.disabled is True
    assert c1.level == "" and c1.consumption_level == ""
    assert c1.monthly_avg_shots == 12
    assert c1.settlement_method == Customer.SettlementMethod.ANNUAL_LIMITED
    assert (c1.onboarded_raw, c1.onboarded_year, c1.onboarded_half) == ("26年上半年", 2026, 1)
    assert c1.industry == DictionaryItem.objects.get(kind="industry", value="房产经纪")
    c2 = Customer.objects.get(company_id=2)
    assert (c2.billing_enabled, c2.disabled, c2.level, c2.monthly_avg_shots) == (
        "yes",
        False,
        "A",
        7,
    )


@pytest.mark.django_db
def test_price_cells_are_staged_raw():
    run(
        standard(
            row(
                5,
                "甲",
                settlement_method="定价结算",
                single_price=12.5,
                multi_price="14+（F-1）*10",
            )
        )
    )

    staged = ImportedPrice.objects.get()
    assert (staged.series_code, staged.method_raw, staged.single_raw, staged.multi_raw) == (
        "L",
        "定价结算",
        "12.5",
        "14+（F-1）*10",
    )
    assert staged.row_number == 2 and not staged.consumed


# --- finding the header ------------------------------------------------------------


@pytest.mark.django_db
def test_title_row_hint_row_other_order_english_extra_columns_other_sheet():
    data = xlsx_bytes(
        [
            ["房产客户分月用量1225（N）"],
            ["Extra", "Company Name", "Sales Owner", "Company ID", "Level"],
            ["说明", "必填", "姓名", "必填，整数", "S/A/B/C/D"],
            ["x", "甲公司", "#N/A", 77, "B"],
        ],
        title="Sheet1",
    )

    plan = analyse(data)

    assert plan.header.row_index == 1
    assert [(r.company_id, r.values) for r in plan.rows] == [(77, {"name": "甲公司", "level": "B"})]
    assert any("说明行" in n for n in plan.notes)


@pytest.mark.django_db
def test_corrected_mapping_is_used():
    data = xlsx_bytes([["公司id", "公司名称", "随便"], [1, "甲", "S"]])
    table = table_open(io.BytesIO(data))

    plan = import_analyse(table, mapping={"0": "company_id", "1": "name", "2": "level"})

    assert plan.rows[0].values["level"] == "S"


# --- classification and the rules ----------------------------------------------------


@pytest.mark.django_db
def test_updated_unchanged_and_empty_cells_never_blank():
    CustomerFactory(company_id=1, name="甲", remarks="旧备注", level="A")
    CustomerFactory(company_id=2, name="乙", remarks="保留")

    plan, counts = run(standard(row(1, "甲", level="B"), row(2, "乙", remarks=None), row(3, "丙")))

    assert [r.status for r in plan.rows] == ["updated", "unchanged", "new"]
    first = Customer.objects.get(company_id=1)
    assert (first.level, first.remarks) == ("B", "旧备注")
    assert Customer.objects.get(company_id=2).remarks == "保留"


@pytest.mark.django_db
def test_duplicate_company_id_reported_on_both_rows_and_neither_applied():
    CustomerFactory(company_id=9, name="原名")

    plan, counts = run(standard(row(9, "新名一"), row(5, "别的"), row(9, "新名二")))

    assert counts["invalid"] == 2
    assert [r.status for r in plan.rows] == ["invalid", "new", "invalid"]
    assert "第 2、4 行" in plan.rows[0].errors[0]
    assert Customer.objects.get(company_id=9).name == "原名"


@pytest.mark.django_db
def test_rows_without_id_or_name_are_invalid_others_import():
    plan, counts = run(standard(row(None, "无id"), row("abc", "坏id"), row(4, None), row(5, "好")))

    assert counts["invalid"] == 3 and counts["created"] == 1
    assert plan.rows[0].errors == ["缺少公司id"]
    assert "不是有效的整数" in plan.rows[1].errors[0]
    assert plan.rows[2].errors == ["缺少公司名称"]


@pytest.mark.django_db
def test_failure_mid_commit_leaves_database_unchanged():
    CustomerFactory(company_id=1, name="旧")
    plan = analyse(standard(row(1, "新"), row(2, "乙", single_price=8)))

    # The customers are written by then; the lifecycle history comes after them.
    with mock.patch.object(
        importers, "_record_lifecycle_changes", side_effect=RuntimeError("boom")
    ):
        with pytest.raises(RuntimeError):
            import_commit(plan=plan, user=None)

    assert list(Customer.objects.values_list("company_id", "name")) == [(1, "旧")]
    assert not LogEntry.objects.filter(object_pk="import").exists()


@pytest.mark.django_db
def test_error_workbook_has_original_row_and_problem_column():
    import openpyxl

    csv_text = "公司id,公司名称,备注\n1,甲,x\n1,=HYPERLINK(1),y\n2,乙,z\n"
    plan = analyse(csv_text.encode("utf-8"), "t.csv")

    book = openpyxl.load_workbook(io.BytesIO(importers.error_workbook(plan)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("公司id", "公司名称", "备注", "行号", "问题")
    assert [r[:4] for r in rows[1:]] == [("1", "甲", "x", 2), ("1", "=HYPERLINK(1)", "y", 3)]
    assert "重复" in rows[1][-1]
    assert book.active.cell(3, 2).data_type == "s"


@pytest.mark.django_db
def test_import_audit_entry_shows_in_audit_list(client, admin_user):
    run(standard(row(1, "甲")), filename="客户.xlsx", user=admin_user)
    client.force_login(admin_user)

    page = client.get(reverse("accounts:audit-list")).content.decode()

    assert "客户导入：客户.xlsx" in page


cell_values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
)


@pytest.mark.django_db
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=st.lists(cell_values, min_size=18, max_size=18))
def test_any_cell_values_normalise_without_crashing(cells):
    ctx = importers._Context()
    result = importers.RowResult(row_number=2, raw=tuple(cells))

    importers.row_normalise(
        tuple(cells), {i: c.field for i, c in enumerate(importers.COLUMNS)}, ctx, result
    )

    assert bool(result.errors) == (result.company_id is None or "name" not in result.values)


@pytest.mark.django_db
def test_rows_changing_different_fields_keep_the_others():
    CustomerFactory(company_id=1, name="甲", level="A", remarks="甲备注", monthly_avg_shots=5)
    CustomerFactory(company_id=2, name="乙", level="B", remarks="乙备注", billing_enabled="no")

    _, counts = run(
        standard(row(1, "甲", level="S"), row(2, "乙", remarks="新备注", billing_enabled="是"))
    )

    assert counts["updated"] == 2
    first, second = Customer.objects.order_by("company_id")
    assert (first.level, first.remarks, first.monthly_avg_shots) == ("S", "甲备注", 5)
    assert (second.level, second.remarks, second.billing_enabled) == ("B", "新备注", "yes")


@pytest.mark.django_db
def test_reading_a_large_file_reports_progress_at_most_fifty_times():
    """Each report is a committed UPDATE of the job: one per 500 rows was 200 of them."""
    count = 30_000
    table = importers.Table(
        kind="csv",
        title="",
        header=importers.Header(
            row_index=0, labels=["公司id", "公司名称"], mapping={0: "company_id", 1: "name"}
        ),
        rows=lambda: iter(
            [("公司id", "公司名称"), *((n, f"客户{n}") for n in range(1, count + 1))]
        ),
        estimated_rows=count + 1,
    )
    reports = []

    plan = import_analyse(table, progress=lambda done, total: reports.append((done, total)))

    assert len(plan.rows) == count
    assert 0 < len(reports) <= importers.ANALYSE_PROGRESS_REPORTS
    assert reports == sorted(reports) and all(total == 2 * (count + 1) for _, total in reports)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            min_size=1,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_array_literal_round_trips_any_name_and_id(names):
    """The ANY(...) lookups send their values as one array literal: quotes, backslashes,
    commas, braces, spaces and the word NULL come back as they went."""
    from django.db import connection

    names = [*names, 'a"b', "c\\d", "e,f", "{g}", " h ", "NULL", "重复"]
    ids = [1, 9_223_372_036_854_775_807, 42]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::bigint[]",
            [importers.array_literal(names), importers.array_literal(ids)],
        )
        assert cursor.fetchone() == (names, ids)
