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
