"""Template helpers of the customer list: the multi-column sort links, the row cells."""

from django import template
from django.template.base import render_value_in_context
from django.templatetags.l10n import localize, unlocalize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def then_by(table, column_name: str) -> str:
    """The sort value adding `column_name` as the next key after the current ones.

    The shared table template renders other apps' tables too; they have no
    multi-column sort, and the template shows no "+" for them.
    """
    return table.then_by(column_name) if hasattr(table, "then_by") else ""


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
    once per table here and each cell rendered as `get_cell` renders it (django-tables2
    3.0, pinned; tests/customers/test_list_rendering.py compares with the template loop).
    """
    table = row.table
    columns = getattr(table, "_row_cells_columns", None)
    if columns is None:
        columns = table._row_cells_columns = list(table.columns)
    parts = []
    for column in columns:
        cell = row._get_and_render_with(
            column, render_func=row._call_render, default=column.default
        )
        # What items() leaves on the column for attrs callables.
        column.current_value, column.current_record = cell, row.record
        if not td_attrs:
            parts.append(
                f'<td class="col-{conditional_escape(column.name)}">'
                f"{render_value_in_context(cell, context)}</td>"
            )
            continue
        if column.localize is not None:
            cell = localize(cell) if column.localize else unlocalize(cell)
        parts.append(
            f"<td {column.attrs['td'].as_html()}>{render_value_in_context(cell, context)}</td>"
        )
    return mark_safe("".join(parts))  # noqa: S308 - the column name and every cell are escaped
