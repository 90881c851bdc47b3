"""The customer list's Python-rendered parts give the markup Django's templates gave.

The filter form's widgets (customers.widgets) and the table's row cells
(`{% row_cells %}`) are rendered in Python for speed; these tests render the same
things through Django's own templates and compare the strings.
"""

import pytest
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict
from django.template import engines
from django.test import RequestFactory

from customers import widgets
from customers.filters import CustomerFilter
from customers.models import Customer, DictionaryItem
from customers.tables import CustomerTable
from customers.templatetags.customer_list import _columns_and_plans
from tests.factories import CustomerFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

FILTER_DATA = [
    "",
    "level=A&level=none&lifecycle_status=active&settlement_method=annual",
    "q=<b>&amp;\"'&created_after=2020-01-01&created_before=bad&sales_unresolved=true",
    "onboarded_year=2021&disabled=yes&billing_enabled=none&sort=-name,level",
    "renewal_expires_after=2026-01-02&contract_start_before=2026-12-31&tag=999",
]


def _filter(data, user):
    DictionaryItem.objects.create(kind="industry", value='地产<&>"')
    DictionaryItem.objects.create(kind="region", value="华东")
    UserFactory(role="sales", full_name="王<珂>")
    return CustomerFilter(QueryDict(data), queryset=Customer.objects.all(), user=user)


@pytest.mark.parametrize("data", FILTER_DATA)
def test_filter_widgets_render_as_djangos_templates(ops_user, data):
    customer_filter = _filter(data, ops_user)
    customer_filter.form.is_valid()
    template_renderer = DjangoTemplates()
    fallbacks = []

    class Spy(widgets.PythonWidgetRenderer):
        def render(self, template_name, context, request=None):
            html = super().render(template_name, context, request)
            if html != template_renderer.render(template_name, context, request):
                raise AssertionError(f"{template_name} differs")
            return html

    spy = Spy()
    spy_fallback = DjangoTemplates.render

    def record_fallback(self, template_name, context, request=None):
        fallbacks.append(template_name)
        return spy_fallback(self, template_name, context, request)

    for bound in customer_filter.form:
        customer_filter.form.renderer = template_renderer
        expected = str(bound)
        customer_filter.form.renderer = spy
        assert str(bound) == expected, bound.name

    # Every widget of the form is one the Python renderer knows: none falls back.
    DjangoTemplates.render, original = record_fallback, DjangoTemplates.render
    try:
        customer_filter.form.renderer = widgets.RENDERER
        html = "".join(str(bound) for bound in customer_filter.form)
    finally:
        DjangoTemplates.render = original
    assert fallbacks == []
    assert 'name="level"' in html and "multiple" in html


def test_a_widget_the_python_renderer_does_not_know_falls_back_to_the_template():
    from django import forms

    class Form(forms.Form):
        default_renderer = widgets.RENDERER
        choice = forms.ChoiceField(choices=[("a", "A<")], widget=forms.RadioSelect)

    html = str(Form()["choice"])
    Form.default_renderer = DjangoTemplates()
    assert html == str(Form()["choice"])
    assert 'type="radio"' in html


def test_row_cells_render_as_the_template_loop(rf_request_ops):
    request, user = rf_request_ops
    tag = TagFactory(name="重点<客户>&")
    owner = UserFactory(role="sales", full_name="王&珂")
    CustomerFactory(
        name="北京<链家>", sales_owner=owner, monthly_avg_shots=1234567, disabled=True
    ).tags.add(tag)
    CustomerFactory(name="上海&中原", sales_owner_raw="未知<人>", remarks="备" * 50)
    columns = [c for c in CustomerTable.base_columns if c not in ("selection",)]
    table = CustomerTable(
        Customer.objects.order_by("pk"),
        search_term="<",
        exclude=[],
        sequence=["selection", *columns],
    )
    loop = engines["django"].from_string(
        '{% for row in table.rows %}<tr>{% for column, cell in row.items %}<td class="col-{{ column.name }}">'
        "{{ cell }}</td>{% endfor %}</tr>{% endfor %}"
    )
    tag_version = engines["django"].from_string(
        "{% load customer_list %}{% for row in table.rows %}<tr>{% row_cells row %}</tr>{% endfor %}"
    )
    expected = loop.render({"table": table}, request)
    assert tag_version.render({"table": table}, request) == expected
    # The cells above came from the per-column plans, not the library's per-cell path,
    # every column included: the date column is opcms.tables.DateColumn, whose render takes
    # the value alone (django-tables2's took **kwargs and kept the library's path).
    _, plans = _columns_and_plans(table, Customer.objects.first())
    assert [c.name for c, p in zip(table.columns, plans, strict=True) if p is None] == []
    assert "created_at" in [c.name for c in table.columns]
    assert "北京<mark>&lt;</mark>链家&gt;" in expected and "王&amp;珂" in expected


@pytest.fixture
def rf_request_ops(ops_user):
    request = RequestFactory().get("/customers/")
    request.user = ops_user
    return request, ops_user


def test_the_selection_checkbox_is_the_checkbox_columns_markup():
    from django_tables2 import CheckBoxColumn

    table = CustomerTable(Customer.objects.none())
    column = CustomerTable.base_columns["selection"]
    assert isinstance(column, CheckBoxColumn)
    for value in (1, 123456, "7<"):
        expected = CheckBoxColumn.render(column, value, table.columns["selection"], record=None)
        assert table.render_selection(value) == expected


def test_row_cells_keep_the_librarys_markup_for_per_row_attrs_and_null_relations(rf_request_ops):
    # A cell attribute computed per row (a callable) and a value followed through a
    # foreign key that may be null: includes/bootstrap_table.html (cells by row_cells)
    # writes what bootstrap5's template writes.
    import re

    import django_tables2 as tables

    request, _ = rf_request_ops
    owner = UserFactory(role="sales", username="wang<")
    CustomerFactory(name="甲", sales_owner=owner, level="A")
    CustomerFactory(name="乙", sales_owner=None, level="")

    class Table(tables.Table):
        name = tables.Column(attrs={"td": {"data-name": lambda value: f"n-{value}"}})
        owner = tables.Column(accessor="sales_owner__username", attrs={"td": {"class": "o"}})
        level = tables.Column()

        class Meta:
            model = Customer
            fields = ("name", "owner", "level")

    def rendered(template_name):
        table = Table(Customer.objects.order_by("pk"), template_name=template_name)
        html = engines["django"].from_string("{% load django_tables2 %}{% render_table table %}")
        return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html.render({"table": table}, request)))

    ours = rendered("includes/bootstrap_table.html")
    assert ours == rendered("django_tables2/bootstrap5.html")
    assert '<td data-name="n-甲">甲</td><td class="o">wang&lt;</td>' in ours
    assert '<td class="o">—</td>' in ours
    table = Table(Customer.objects.all())
    _, plans = _columns_and_plans(table, Customer.objects.first())
    assert all(plan is not None for plan in plans)
