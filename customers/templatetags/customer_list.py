"""Template helpers of the customer list: the multi-column sort links."""

from django import template

register = template.Library()


@register.filter
def then_by(table, column_name: str) -> str:
    """The sort value adding `column_name` as the next key after the current ones.

    The shared table template renders other apps' tables too; they have no
    multi-column sort, and the template shows no "+" for them.
    """
    return table.then_by(column_name) if hasattr(table, "then_by") else ""
