"""Content-Security-Policy: the header is strict, and no page needs it relaxed.

The policy (opcms/settings/base.py) allows scripts and styles from our own origin only.
A template that slips an inline <script> or an on*= handler back in would be silently
broken by the browser, so (2) scans the HTML of real pages per role, and (3) loads pages
in Chromium and listens for the console's CSP violation messages.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from accounts.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db


class _InlineBehaviour(HTMLParser):
    """Collects what a strict CSP would block: inline executable scripts and on*= handlers."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script":
            kind = (names.get("type") or "").lower()
            if not names.get("src") and kind not in ("application/json", "application/ld+json"):
                self.problems.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs:
            if re.fullmatch(r"on[a-z]+", name):
                self.problems.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")
            if (
                value
                and name in ("href", "src", "action", "formaction")
                and (value.strip().lower().startswith("javascript:"))
            ):
                self.problems.append(f"<{tag} {name}=javascript:...> at line {self.getpos()[0]}")
            if name == "style":
                self.problems.append(f"<{tag} style=...> at line {self.getpos()[0]}")


def inline_behaviour(html: str) -> list[str]:
    parser = _InlineBehaviour()
    parser.feed(html)
    return parser.problems


@pytest.fixture
def world(sales_user, ops_user):
    """One customer of sales_user with an issued bill, a payment, a plan and a group."""
    customer = factories.CustomerFactory(sales_owner=sales_user, name="华东测绘")
    bill = factories.issued_bill(user=ops_user, customer=customer, lines=("300.00",))
    payment = factories.PaymentFactory(customer=customer, amount=Decimal("120.00"))
    plan = factories.PricePlanFactory(customer=customer)
    return {"customer": customer, "bill": bill, "payment": payment, "plan": plan}


def _pages(world) -> dict[str, str]:
    c = world["customer"].pk
    return {
        "home": reverse("home"),
        "cockpit": reverse("reports:cockpit"),
        "customer list": reverse("customers:customer-list"),
        "customer detail": reverse("customers:customer-detail", args=[c]),
        "customer create": reverse("customers:customer-create"),
        "customer edit": reverse("customers:customer-edit", args=[c]),
        "customer usage": reverse("billing:customer-usage", args=[c]),
        "plan form": reverse("billing:plan-create", args=[c]),
        "bills": reverse("billing:bill-list"),
        "bill detail": reverse("billing:bill-detail", args=[world["bill"].pk]),
        "payments": reverse("billing:payment-list"),
        "payment form": reverse("billing:payment-create"),
        "payment detail": reverse("billing:payment-detail", args=[world["payment"].pk]),
        "receipts import": reverse("billing:receipt-import"),
        "statement": reverse("billing:statement")
        + f"?customer={world['customer'].company_id}&start=2025-10&end=2025-10",
        "reports": reverse("reports:index"),
        "receivables": reverse("reports:receivables"),
        "report payments": reverse("reports:payments"),
        "settlement": reverse("reports:settlement"),
        "scorecard": reverse("reports:scorecard"),
        "collections desk": reverse("billing:collections-desk"),
        "collections customer": reverse("billing:collections-customer", args=[c]),
        "packages": reverse("billing:collections-packages"),
        "pipeline": reverse("billing:collections-pipeline"),
        "close": reverse("billing:period-close"),
        "whatif": reverse("billing:whatif"),
        "jobs": reverse("accounts:job-list"),
        "notifications": reverse("accounts:notification-list"),
        "notification preferences": reverse("accounts:notification-preferences"),
        "audit": reverse("accounts:audit-list"),
        "customer import": reverse("customer_import:start"),
        "customer export": reverse("customers:export-start"),
        "groups": reverse("customers:group-list"),
        "issues": reverse("customers:issue-search"),
        "settings": reverse("customers:settings"),
        "schedules": reverse("accounts:schedule-list"),
        "webhooks": reverse("accounts:webhook-list"),
        "usage import": reverse("billing:usage-import"),
        "password": reverse("accounts:password-change"),
    }


# The pages each role works in (a role's own menu); each must answer 200 for it.
ROLE_PAGES = {
    Role.ADMIN: None,  # every page above
    Role.MANAGER: [
        "home", "cockpit", "customer list", "customer detail", "bills", "bill detail",
        "payments", "reports", "receivables", "report payments", "settlement",
        "scorecard", "collections desk", "packages", "pipeline", "whatif", "audit", "jobs",
        "notifications",
    ],
    Role.OPS: [
        "home", "customer list", "customer detail", "customer edit", "plan form", "bills",
        "bill detail", "payments", "payment form", "payment detail", "receipts import",
        "statement", "close", "collections desk", "jobs", "usage import", "settings",
    ],
    Role.SALES: [
        "home", "customer list", "customer detail", "customer create", "bills", "bill detail",
        "payments", "statement", "collections desk", "collections customer", "notifications",
    ],
}  # fmt: skip


def test_every_page_sends_the_strict_policy(client, admin_user):
    # Given a signed-in admin
    client.force_login(admin_user)

    # When a page and the login page are requested
    signed_in = client.get(reverse("customers:customer-list"))
    client.logout()
    anonymous = client.get(reverse("accounts:login"))

    # Then both carry the enforced policy: our origin only, no inline code, no framing
    for response in (signed_in, anonymous):
        policy = response.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["default-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["form-action"] == "'self'"
        assert directives["base-uri"] == "'self'"
        assert directives["img-src"] == "'self' data:"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_only_the_api_docs_relax_the_policy_and_only_for_styles(client, ops_user):
    # Given a signed-in ops user
    client.force_login(ops_user)

    # When the two API docs pages are requested
    for name in ("api:docs", "api:redoc"):
        policy = client.get(reverse(name)).headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())

        # Then styles may be inline (Swagger UI and Redoc write them), scripts still may not
        assert directives["style-src"] == "'self' 'unsafe-inline'"
        assert directives["script-src"] == "'self'"
    docs = client.get(reverse("api:docs")).content.decode()
    assert inline_behaviour(docs.split("<style>")[0] + docs.split("</style>")[-1]) == []


@pytest.mark.parametrize("role", list(ROLE_PAGES), ids=lambda r: r.value)
def test_pages_carry_no_inline_script_handler_or_style(client, world, role, sales_user):
    # Given a user of the role (sales: the owner of the world's customer)
    user = sales_user if role == Role.SALES else factories.UserFactory(role=role)
    client.force_login(user)
    pages = _pages(world)
    names = ROLE_PAGES[role] or list(pages)

    # When each of the role's pages is rendered
    found = {}
    for name in names:
        response = client.get(pages[name])
        assert response.status_code == 200, f"{name}: {response.status_code}"
        problems = inline_behaviour(response.content.decode())
        if problems:
            found[name] = problems

    # Then none holds anything the policy would block
    assert found == {}


def test_the_scanner_sees_what_the_policy_blocks():
    # Given markup with each kind of inline behaviour, and markup with none
    bad = (
        '<script>alert(1)</script><button onclick="go()">x</button>'
        '<a href="javascript:go()">y</a><div style="width:1px"></div>'
    )
    good = (
        '<script src="/static/js/opcms.js"></script>'
        '<script id="d" type="application/json">{"a": 1}</script>'
        '<form data-confirm="确定？"></form>'
    )

    # Then the scanner reports each problem in the first and none in the second
    assert len(inline_behaviour(bad)) == 4
    assert inline_behaviour(good) == []


# --- in the browser ---------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_run_without_csp_violations_and_confirm_still_asks(login_page, admin_user, ops_user):
    # Given an admin signed in, listening for the console's CSP violation reports
    customer = factories.CustomerFactory(name="西湖测绘")
    factories.issued_bill(user=ops_user, customer=customer, lines=("300.00",))
    page = login_page(admin_user)
    violations = page.csp_violations  # filled from the console by the browser_page fixture

    # When pages with charts, htmx tables and forms are loaded
    for path in (
        reverse("reports:cockpit"),
        reverse("customers:customer-list"),
        reverse("customers:customer-detail", args=[customer.pk]),
        reverse("billing:bill-list"),
        reverse("billing:collections-desk"),
        reverse("billing:period-close"),
        reverse("accounts:job-list"),
    ):
        page.goto(page.base_url + path)
        expect(page.locator("main")).to_be_visible()
    # The cockpit's charts are drawn by static/js/cockpit.js from the json_script data
    page.goto(page.base_url + reverse("reports:cockpit"))
    expect(page.locator("#chart-revenue canvas")).to_be_visible()

    # And a job's progress bar gets its width from data-percent (style attributes are blocked)
    job = factories.JobFactory(
        created_by=admin_user, status="running", progress_done=3, progress_total=10
    )
    page.goto(page.base_url + reverse("accounts:job-detail", args=[job.pk]))
    expect(page.locator(".job-progress .progress-bar")).to_have_attribute(
        "style", re.compile(r"width: 30%")
    )

    # Then nothing was blocked
    assert violations == []

    # And a data-confirm form still asks first: dismissing keeps the customer
    page.goto(page.base_url + reverse("customers:customer-detail", args=[customer.pk]))
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator("form[data-confirm] button", has_text="删除").first.click()
    expect(page.locator("h1")).to_contain_text("西湖测绘")
    assert asked and "确认删除客户" in asked[0]
    assert violations == []

    # And the listener does hear the browser refuse an inline script (the policy is enforced)
    with pytest.raises(PlaywrightError):
        page.add_script_tag(content="document.title = 'injected'")
    expect(page).not_to_have_title("injected")
    assert any("script-src" in text for text in violations)
    violations.clear()  # the refusal was this test's own doing
