"""FORM_RENDERER (customers.widgets.PythonWidgetRenderer) draws every page's forms as
Django's own template renderer draws them: the same pages, both renderers, the same HTML."""

import re

import pytest
from django.forms.renderers import get_default_renderer
from django.test import override_settings
from django.urls import reverse

from customers.widgets import PythonWidgetRenderer
from tests.factories import CustomerFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

PER_RESPONSE = [
    re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+'),
    re.compile(r'(nonce=")[^"]+'),
    re.compile(r'("X-CSRFToken": ")[^"]+'),
]


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    for pattern in PER_RESPONSE:
        html = pattern.sub(r"\1…", html)
    return html


def test_pages_with_forms_render_as_with_djangos_renderer(client, admin_user):
    owner = UserFactory(role="sales", full_name="王<珂>")
    customer = CustomerFactory(name="北京<链家>&", sales_owner=owner, level="A")
    customer.tags.add(TagFactory(name="重点"))
    client.force_login(admin_user)
    urls = [
        reverse("customers:customer-list"),
        reverse("customers:customer-detail", args=[customer.pk]),
        reverse("customers:customer-edit", args=[customer.pk]),
        reverse("customers:customer-create"),
        reverse("billing:bill-list"),
        reverse("billing:payment-list"),
        reverse("billing:whatif"),
        reverse("reports:receivables"),
        reverse("accounts:password-change"),
        reverse("accounts:audit-list"),
    ]
    assert isinstance(get_default_renderer(), PythonWidgetRenderer)
    ours = {url: _html(client, url) for url in urls}
    with override_settings(FORM_RENDERER="django.forms.renderers.DjangoTemplates"):
        djangos = {url: _html(client, url) for url in urls}
    for url in urls:
        assert ours[url] == djangos[url], url
    assert "<select" in "".join(ours.values()) and "<input" in "".join(ours.values())
