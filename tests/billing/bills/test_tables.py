"""The bill table's status and anomaly cells: rendered in Python, the markup of the templates."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal as D

from django.template import engines
from django.utils import timezone

from billing.bills.tables import BillTable
from billing.models import Bill
from customers.models import Customer

# The two TemplateColumns the table had (compiled again for every cell). The status one
# included billing/reconcile_bill_status.html, whose text this is; {% bill_status %}
# replaced it everywhere and must draw the same markup.
STATUS_TEMPLATE = (
    '<span class="badge bill-status '
    "{% if bill.status == 'paid' %}text-bg-success"
    "{% elif bill.status == 'partially_paid' %}text-bg-info"
    "{% elif bill.status == 'issued' %}text-bg-primary"
    "{% elif bill.status == 'reversed' %}text-bg-secondary"
    '{% else %}text-bg-light border{% endif %}" data-status="{{ bill.status }}">'
    "{% if bill.kind == 'credit_note' %}冲正单 · {% endif %}{{ bill.get_status_display }}</span>"
    '{% if bill.is_overdue %} <span class="badge text-bg-danger bill-overdue">逾期</span>{% endif %}'
)
ANOMALIES_TEMPLATE = (
    "{% for a in record.anomalies %}"
    '<a class="badge text-bg-warning text-decoration-none anomaly-link" hx-boost="false" '
    "href=\"{% url 'billing:bill-detail' record.pk %}#anomalies\">{{ a.message }}</a> "
    "{% endfor %}"
)


def _bills() -> list[Bill]:
    yesterday = timezone.localdate() - timedelta(days=1)
    customer = Customer(pk=1, company_id=7, name="北京<链家>")
    kinds = [
        ("draft", "bill", None),
        ("issued", "bill", yesterday),  # overdue
        ("issued", "bill", yesterday + timedelta(days=30)),
        ("partially_paid", "bill", yesterday),
        ("paid", "bill", None),
        ("reversed", "bill", None),
        ("issued", "credit_note", yesterday),
    ]
    anomalies = [
        [],
        [{"code": "spike", "message": "用量<异常> & 翻倍"}],
        [{"code": "a", "message": "一"}, {"code": "b", "message": "二"}],
        [{"code": "c"}],  # no message
    ]
    return [
        Bill(
            pk=pk,
            number=f"BILL-{pk}",
            customer=customer,
            status=status,
            kind=kind,
            due_date=due,
            total=D("1234.50"),
            amount_paid=D("0"),
            anomalies=anomalies[pk % len(anomalies)],
        )
        for pk, (status, kind, due) in enumerate(kinds, start=1)
    ]


def test_status_and_anomaly_cells_are_the_templates_markup():
    bills = _bills()
    table = BillTable(bills)
    django = engines["django"]
    for bill, row in zip(bills, table.rows, strict=True):
        assert row.get_cell("status") == django.from_string(STATUS_TEMPLATE).render({"bill": bill})
        assert django.from_string("{% load bill_status %}{% bill_status b %}").render(
            {"b": bill}
        ) == row.get_cell("status")
        assert row.get_cell("anomalies") == django.from_string(ANOMALIES_TEMPLATE).render(
            {"record": bill}
        )
    cells = [row.get_cell("anomalies") for row in table.rows]
    assert "用量&lt;异常&gt; &amp; 翻倍" in "".join(cells)
    assert "逾期" in table.rows[1].get_cell("status")
    assert "冲正单" in table.rows[6].get_cell("status")


def test_the_tables_template_renders_bootstrap5s_table_with_cells_in_python(rf, ops_user):
    # includes/bootstrap_table.html (DJANGO_TABLES2_TEMPLATE) renders the rows' cells by
    # {% row_cells row td_attrs=True %}: the same table as bootstrap5's, up to whitespace.
    request = rf.get("/billing/bills/")
    request.user = ops_user
    bills = _bills()

    def rendered(template_name: str) -> str:
        table = BillTable(bills, template_name=template_name)
        html = engines["django"].from_string("{% load django_tables2 %}{% render_table table %}")
        return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html.render({"table": table}, request)))

    ours = rendered("includes/bootstrap_table.html")
    assert ours == rendered("django_tables2/bootstrap5.html")
    assert '<td class="text-end">¥1,234.50</td>' in ours and "用量&lt;异常&gt;" in ours
