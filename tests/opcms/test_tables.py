"""The cached django-tables2 signature answers as django-tables2's own, once per function."""

from __future__ import annotations

import django_tables2 as tables
from django_tables2 import utils

from opcms import tables as cached_tables


class Row:
    def __init__(self, n):
        self.n = n


class Numbers(tables.Table):
    n = tables.Column()
    doubled = tables.Column(empty_values=())

    def render_n(self, value, record):
        return f"#{value}"

    def render_doubled(self, record, **kwargs):
        return record.n * 2


def test_signature_is_installed_and_matches_the_uncached_answer():
    # Given the app registry is ready (accounts installs the cache)
    assert getattr(utils.signature, "opcms_cached", False)
    table = Numbers([])
    # When the signature of a bound render method is asked twice
    first = utils.signature(table.render_n)
    second = utils.signature(Numbers([]).render_n)  # another instance, same function
    # Then it is the uncached answer, without self, from one cache entry
    assert first == second == (("value", "record"), None)
    assert utils.signature(table.render_doubled) == (("record",), "kwargs")
    assert utils.signature(lambda a, *rest, b: a) == (("a", "b"), None)
    assert (Numbers.render_n, True) in cached_tables._cache


def test_tables_render_cells_through_the_cache():
    # Given a table of two rows
    table = Numbers([Row(1), Row(2)])
    # When its cells render
    cells = [(row.get_cell("n"), row.get_cell("doubled")) for row in table.rows]
    # Then each render method got exactly the arguments it asks for
    assert cells == [("#1", 2), ("#2", 4)]


class Dated(tables.Table):
    ours = cached_tables.DateColumn(accessor="at", format="Y-m-d H:i")
    theirs = tables.DateTimeColumn(accessor="at", format="Y-m-d H:i")
    day = cached_tables.DateColumn(accessor="on", format="Y-m-d")
    their_day = tables.DateColumn(accessor="on", format="Y-m-d")


def test_date_column_draws_and_exports_what_django_tables2s_template_columns_do(settings):
    import datetime as dt

    from django.utils import timezone

    settings.TIME_ZONE = "Asia/Shanghai"
    rows = [
        # 20:30 UTC is 04:30 the next day in Shanghai: the cell shows local time.
        {"at": dt.datetime(2026, 11, 30, 20, 30, tzinfo=dt.UTC), "on": dt.date(2026, 12, 1)},
        {"at": None, "on": None},  # empty: the column's default for both
    ]
    with timezone.override("Asia/Shanghai"):
        table = Dated(rows)
        for row in table.rows:
            assert row.get_cell("ours") == row.get_cell("theirs")
            assert row.get_cell("day") == row.get_cell("their_day")
        filled = table.rows[0]  # an export of a date is its ISO text (empty: no value)
        assert filled.get_cell_value("ours") == filled.get_cell_value("theirs")
        assert filled.get_cell_value("day") == filled.get_cell_value("their_day")
        assert table.rows[1].get_cell("ours") == "—"
        assert table.rows[0].get_cell("ours") == "2026-12-01 04:30"
        assert table.rows[0].get_cell_value("ours") == "2026-11-30 20:30:00+00:00"


def test_no_table_of_the_project_compiles_a_template_per_cell():
    """TemplateColumn (and django-tables2's DateColumn/DateTimeColumn, which are ones)
    compiles its template code for every cell; every project table avoids it, including
    the columns django-tables2 makes itself from a model's fields."""
    import importlib
    import pkgutil

    from django_tables2.columns import TemplateColumn

    for package in ("accounts", "customers", "billing", "reports"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if info.name.endswith(("tables", ".tables")):
                importlib.import_module(info.name)
    found = []

    def walk(cls):
        for sub in cls.__subclasses__():
            if sub.__module__.split(".")[0] in {"accounts", "customers", "billing", "reports"}:
                found.append(sub)
            walk(sub)

    walk(tables.Table)
    assert len(found) >= 5
    templated = [
        f"{table.__module__}.{table.__name__}.{name}"
        for table in found
        for name, column in table.base_columns.items()
        if isinstance(column, TemplateColumn)
    ]
    assert templated == []
