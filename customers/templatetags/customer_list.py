"""Template helpers of the customer list: the multi-column sort links."""

from django import template

register = template.Library()


@register.filter
def then_by(table, column_name: str) -> str:
    """The sort value adding `column_name` as the next key after the current ones."""
    return table.then_by(column_name)
