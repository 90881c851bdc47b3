"""The pinyin sort key: pure function, and kept up to date on every path that writes a name."""

from __future__ import annotations

import io

import pytest
from pypinyin import Style, lazy_pinyin

from customers.importers import import_analyse, import_commit, table_open
from customers.models import Customer
from customers.pinyin import name_sort_key
from customers.services import customer_create, customer_update


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("北京链家", "bei jing lian jia"),
        ("ABC地产", "abc di chan"),
        ("  普通用户 ", "pu tong yong hu"),
        ("12号店", "12 hao dian"),
        ("", ""),
    ],
)
def test_name_sort_key(name, key):
    assert name_sort_key(name) == key


@pytest.mark.parametrize(
    "name",
    [
        "重庆银行长沙分行",
        "音乐会计事务所",
        "ABC地产12号店",
        "  a B 中\n国 ",
        "长长长长",
        "北京链家房地产经纪有限公司",
        "（深圳）行长@李伟光",
        "女绿ǎü",
    ],
)
def test_key_is_lazy_pinyin_of_the_name_however_often_asked(name):
    # The key is computed piece by piece with the pieces remembered; it must stay
    # exactly what pypinyin's lazy_pinyin gives for the whole name.
    syllables = lazy_pinyin(name.strip(), style=Style.NORMAL, errors="default")
    expected = " ".join(s.strip().lower() for s in syllables if s.strip())

    assert [name_sort_key(name), name_sort_key(name)] == [expected, expected]


def test_keys_sort_names_as_a_clerk_reads_them():
    names = ["中原地产", "安居客", "贝壳", "北京链家", "ABC地产"]

    assert sorted(names, key=name_sort_key) == ["ABC地产", "安居客", "北京链家", "贝壳", "中原地产"]


def test_create_and_rename_through_the_services_set_the_key(ops_user):
    customer = customer_create(user=ops_user, data={"company_id": 901, "name": "贝壳找房"})
    assert customer.name_pinyin == "bei ke zhao fang"

    customer_update(user=ops_user, customer=customer, data={"name": "安居客"})

    customer.refresh_from_db()
    assert customer.name_pinyin == "an ju ke"


def _import(csv_text: str, user) -> None:
    table = table_open(io.BytesIO(csv_text.encode("utf-8-sig")), filename="c.csv")
    import_commit(plan=import_analyse(table, filename="c.csv"), user=user)


def test_the_bulk_import_writes_the_key_for_new_and_renamed_customers(ops_user):
    # Given a first import, then a re-import that renames one customer
    _import("公司id,公司名称\n7001,中原地产\n7002,安居客\n", ops_user)
    _import("公司id,公司名称\n7001,贝壳\n7002,安居客\n", ops_user)

    keys = dict(Customer.objects.values_list("company_id", "name_pinyin"))
    assert keys == {7001: "bei ke", 7002: "an ju ke"}
