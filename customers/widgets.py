"""The filter form's widgets rendered in Python, byte for byte as Django's templates render them.

The customer list draws about twenty filter widgets on every page, some of them selects of
every salesperson; through Django's widget templates (an include per option and per
attribute) that was a fifth of the page's CPU (cProfile). `PythonWidgetRenderer` renders the
stock templates it knows (input, checkbox, select, multiwidget, django-filter's range) with the same markup,
escaping and whitespace, and hands any other template to Django's renderer.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, strip_spaces_between_tags
from django.utils.safestring import SafeData

WIDGETS = "django/forms/widgets/"
# Templates that are `{% include "django/forms/widgets/input.html" %}` and a newline.
INPUT_TEMPLATES = {
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "search",
        "tel",
        "date",
        "datetime",
        "time",
        "checkbox",
    )
}
SELECT_TEMPLATES = {f"{WIDGETS}select.html"}
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"
MULTIWIDGET_TEMPLATE = f"{WIDGETS}multiwidget.html"
# django-filter's range widget: the subwidgets with a "-" after the first, no spaceless.
RANGE_TEMPLATE = "django_filters/widgets/multiwidget.html"


class Unsupported(Exception):
    """A widget this module does not render: Django's templates render it instead."""


def _text(value) -> str:
    """`{{ value }}`: localised, escaped unless already safe."""
    return str(conditional_escape(localize(value)))


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}`: str(), escaped unless the value was safe."""
    text = f"{value}"
    return text if isinstance(value, SafeData) else str(conditional_escape(text))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    return "".join(
        f" {_text(name)}" + ("" if value is True else f'="{_formatted(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html, with its trailing newline."""
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>\n"
    )


def _option(option: dict) -> str:
    """django/forms/widgets/select_option.html, with its trailing newline."""
    if option["template_name"] != OPTION_TEMPLATE:
        raise Unsupported(option["template_name"])
    return (
        f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_text(option['label'])}</option>\n"
    )


def _select(widget: dict) -> str:
    """django/forms/widgets/select.html, with its trailing newline."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            parts.append(f"\n  {_option(option)}")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


def _widget(widget: dict) -> str:
    template_name = widget["template_name"]
    if template_name in INPUT_TEMPLATES:
        return _input(widget) + "\n"  # the include and the including template's newline
    if template_name in SELECT_TEMPLATES:
        return _select(widget)
    if template_name == MULTIWIDGET_TEMPLATE:
        inner = "".join(_widget(sub) for sub in widget["subwidgets"])
        return strip_spaces_between_tags(inner.strip()) + "\n"
    if template_name == RANGE_TEMPLATE:
        subs = [_widget(sub) for sub in widget["subwidgets"]]
        return "".join(sub + ("-" if i == 0 else "") for i, sub in enumerate(subs)) + "\n"
    raise Unsupported(template_name)


class PythonWidgetRenderer(DjangoTemplates):
    """Django's template renderer, with the stock input/select/multiwidget templates in Python."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if widget is not None and widget.get("template_name") == template_name:
            try:
                return _widget(widget).strip()
            except Unsupported:
                pass
        return super().render(template_name, context, request=request)


RENDERER = PythonWidgetRenderer()
