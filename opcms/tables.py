"""django-tables2 with its per-cell `inspect.signature` call cached (installed at start-up),
and a date column that does not compile a template per cell.

django-tables2 3.0 asks `inspect.signature` about a column's render method for every
cell it renders: on a 50-row page of 12 columns that is 600 signature computations,
a third of the receivables page's CPU (cProfile). A method's signature does not change,
so it is computed once per function (bound methods keyed by their function: the same
signature without `self`).
"""

from __future__ import annotations

import types
from datetime import date, datetime
from typing import Any

import django_tables2 as tables
from django.template.defaultfilters import date as date_filter
from django.utils.timezone import template_localtime

_cache: dict[tuple[Any, bool], tuple[tuple[str, ...], str | None]] = {}


def install_signature_cache() -> None:
    from django_tables2 import utils

    if getattr(utils.signature, "opcms_cached", False):
        return
    uncached = utils.signature

    def signature(fn):
        bound = isinstance(fn, types.MethodType)
        key = (fn.__func__ if bound else fn, bound)
        try:
            return _cache[key]
        except KeyError:
            value = _cache[key] = uncached(fn)
            return value
        except TypeError:  # an unhashable callable: as django-tables2 does
            return uncached(fn)

    signature.opcms_cached = True
    utils.signature = signature


class DateColumn(tables.Column):
    """A date or datetime cell in the `date` filter's format (`format="Y-m-d H:i"`), in Python.

    django-tables2's DateColumn and DateTimeColumn are TemplateColumns: they compile
    `{{ value|date:"…" }}` again for every cell, a quarter of the payment list's CPU
    (cProfile). This draws the same text (an aware datetime in the current time zone,
    then the `date` filter) and exports ISO text as theirs do.
    """

    def __init__(self, *args: Any, format: str, **kwargs: Any) -> None:  # noqa: A002
        super().__init__(*args, **kwargs)
        self.format = format

    def render(self, value):
        return date_filter(template_localtime(value), self.format)

    def value(self, value, **kwargs):
        if isinstance(value, datetime):
            return value.isoformat(sep=" ")
        if isinstance(value, date):
            return value.isoformat()
        return super().value(value=value, **kwargs)
