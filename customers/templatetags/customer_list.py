"""Template helpers of the customer list: the multi-column sort links, the row cells."""

import contextlib

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.template.base import render_value_in_context
from django.templatetags.l10n import localize, unlocalize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.columns.manytomanycolumn import ManyToManyColumn
from django_tables2.utils import signature

register = template.Library()


@register.filter
def then_by(table, column_name: str) -> str:
    """The sort value adding `column_name` as the next key after the current ones.

    The shared table template renders other apps' tables too; they have no
    multi-column sort, and the template shows no "+" for them.
    """
    return table.then_by(column_name) if hasattr(table, "then_by") else ""


class _CellPlan:
    """How one column's cells are computed, worked out once per table and model.

    What `BoundRow._get_and_render_with` + `_call_render` decide again for every cell
    (accessor split, field lookup for get_FOO_display, the render method's signature),
    decided once: the value is the record's attribute (or its get_FOO_display()), an
    empty value gives the column's default, else the render method is called with the
    arguments it names.
    """

    __slots__ = (
        "args", "attr", "bound_column", "default", "display", "empty_values", "needs_value",
        "path", "render",
    )  # fmt: skip

    def __init__(self, bound_column, model, path, name, args):
        field = None
        with contextlib.suppress(FieldDoesNotExist):
            field = model._meta.get_field(name)
        display = f"get_{name}_display"
        self.display = bool(getattr(field, "choices", ())) and hasattr(model, display)
        self.attr = display if self.display else name
        self.path = path  # the relations followed to `model` (customer__name: customer)
        self.bound_column = bound_column
        self.render = bound_column.render
        self.args = args
        self.default = bound_column.default
        self.empty_values = bound_column.column.empty_values
        # The value only decides "empty" and is passed to render if it names it.
        self.needs_value = bool(self.empty_values) or "value" in args

    @classmethod
    def of(cls, bound_column, model):
        """The plan, or None where the library's own path is kept (links, an
        accessor through something other than foreign keys, many-to-many columns, render
        methods taking **kwargs)."""
        column = bound_column.column
        accessor = str(bound_column.accessor)
        if (
            bound_column.link
            or isinstance(column, BaseLinkColumn | ManyToManyColumn)
            or "." in accessor
        ):
            return None
        *path, name = accessor.split("__")
        for bit in path:  # each a foreign key (or one-to-one) of the model before it
            try:
                relation = model._meta.get_field(bit)
            except FieldDoesNotExist:
                return None
            if not (relation.many_to_one or relation.one_to_one) or not relation.concrete:
                return None
            model = relation.related_model
        args, kwargs_name = signature(bound_column.render)
        if kwargs_name or any(arg not in CELL_ARGUMENTS for arg in args):
            return None
        return cls(bound_column, model, tuple(path), name, args)


CELL_ARGUMENTS = frozenset(("value", "record", "column", "bound_column", "bound_row", "table"))
_LIBRARY = object()  # the plan gives way to django-tables2 for this cell


def _plan_cell(plan, row, record):
    value = None
    if plan.needs_value:
        owner = record
        for bit in plan.path:  # a null foreign key on the way gives None, as the library
            owner = getattr(owner, bit)
            if owner is None:
                break
        if owner is None:
            value = None
        elif plan.display:
            value = getattr(owner, plan.attr)()
        else:
            value = getattr(owner, plan.attr, _LIBRARY)
            if value is _LIBRARY or callable(value):
                return _LIBRARY
        if value in plan.empty_values:
            return plan.default
    available = {
        "value": value,
        "record": record,
        "column": plan.bound_column.column,
        "bound_column": plan.bound_column,
        "bound_row": row,
        "table": row.table,
    }
    return plan.render(**{arg: available[arg] for arg in plan.args})


def _static(attrs) -> bool:
    """Whether django-tables2 attrs (nested dicts) hold no callable: the same for every row."""
    return not any(
        callable(value) or (isinstance(value, dict) and not _static(value))
        for value in attrs.values()
    )


def _td_open(column) -> str | None:
    """A column's `<td …>` as bootstrap5's template writes it, when it is the same for every
    row (no callable among the table's and column's attrs), else None: computed per cell,
    the attributes were a third of the bill list's CPU (cProfile)."""
    if not (_static(dict(column._table.attrs)) and _static(dict(column.column.attrs))):
        return None
    return f"<td {column.attrs['td'].as_html()}>"


def _columns_and_plans(table, record):
    cached = getattr(table, "_row_cells_plans", None)
    model = type(record) if isinstance(record, models.Model) else None
    if cached is None or cached[0] is not model:
        columns = list(table.columns)
        plans = [_CellPlan.of(c, model) if model else None for c in columns]
        cached = table._row_cells_plans = (model, columns, plans, [_td_open(c) for c in columns])
    return cached[1], cached[2]


def _td_opens(table) -> list[str | None]:
    return table._row_cells_plans[3]


@register.simple_tag(takes_context=True)
def row_cells(context, row, td_attrs: bool = False) -> SafeString:
    """A table row's `<td>` cells, rendered in Python.

    `td_attrs=True`: each cell as django-tables2's bootstrap5 template writes it,
    `<td {{ column.attrs.td.as_html }}>{{ cell }}</td>` (with its `localize` choice), for
    the tables on that template (includes/bootstrap_table.html).

    The same output as `{% for column, cell in row.items %}<td class="col-{{ column.name }}">
    {{ cell }}</td>{% endfor %}` (the value rendered as `{{ }}` renders it: localised,
    escaped unless safe), without a template loop per cell: at 25 rows x 12 columns the
    loop was a fifth of the customer list's CPU (cProfile). `BoundRow.items()` looks each
    column up again by name in a scan of all columns (`get_cell`); the columns are taken
    once per table here and each cell rendered as `get_cell` renders it, by a plan per
    column (`_CellPlan`: the library's per-cell accessor, field and signature work was
    still a quarter of the list's CPU) or, where no plan applies, by the library itself
    (django-tables2 3.0, pinned; tests/customers/test_list_rendering.py compares both
    with the template loop).
    """
    record = row.record
    columns, plans = _columns_and_plans(row.table, record)
    td_opens = _td_opens(row.table)
    parts = []
    for index, (column, plan) in enumerate(zip(columns, plans, strict=True)):
        cell = _plan_cell(plan, row, record) if plan is not None else _LIBRARY
        if cell is _LIBRARY:
            cell = row._get_and_render_with(
                column, render_func=row._call_render, default=column.default
            )
        # What items() leaves on the column for attrs callables.
        column.current_value, column.current_record = cell, row.record
        if not td_attrs:
            # A safe string renders as itself ({{ }} would localise and escape nothing).
            text = cell if type(cell) is SafeString else render_value_in_context(cell, context)
            parts.append(f'<td class="col-{conditional_escape(column.name)}">{text}</td>')
            continue
        if column.localize is not None:
            cell = localize(cell) if column.localize else unlocalize(cell)
        td = td_opens[index] or f"<td {column.attrs['td'].as_html()}>"
        parts.append(f"{td}{render_value_in_context(cell, context)}</td>")
    return mark_safe("".join(parts))  # noqa: S308 - the column name and every cell are escaped
