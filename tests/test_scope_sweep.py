"""One resolver sweep: every route that takes an id refuses an object outside the user's scope.

The sweep walks `get_resolver()`, so a new route is covered the day it is
added: each URL argument is filled from RULES (the path text before it and
the argument's name -> an object of the foreign world below). A route with an
argument no rule knows fails `test_every_id_route_is_covered`, so nobody can
add an id route without saying which out-of-scope object it must refuse.

Each covered route is requested with GET and POST (and DELETE for the API)
as every role its objects are out of scope for; the answer must be 403, 404
or 405 -- never 2xx/3xx (data served or a write done) and never 5xx.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.test import APIClient

from accounts.models import Notification, NotificationKind, WebhookDelivery, WebhookSubscription
from accounts.roles import Role
from customers.models import IssueAction, SavedFilter
from customers.qa.services import issue_attachment_add
from tests import factories

# Who each kind of foreign object is out of scope for. Customers (and everything
# hanging off one) are scoped for sales only: ops, managers and admins see all.
# Jobs are visible to their creator (and admins); saved filters only to their owner.
CUSTOMER_SCOPED = frozenset({"sales", "saleslead"})
JOB_SCOPED = frozenset({"sales", "saleslead", "ops", "manager"})
OWNER_SCOPED = frozenset({"sales", "saleslead", "ops", "manager", "admin"})
EVERYONE = OWNER_SCOPED
# Admin-only pages (schedules, webhook deliveries): every other role is refused.
ADMIN_ONLY = frozenset({"sales", "saleslead", "ops", "manager"})
# The archive's settings (dictionaries, mappings, rules) are for ops and admin.
SETTINGS_REFUSED = frozenset({"sales", "saleslead", "manager"})

# (regex on the route text before the argument, argument name) -> (object key, scoped roles).
# Earlier rules win. Placeholders before the argument appear as `<name>`.
RULES: list[tuple[str, str, str, frozenset]] = [
    (r"customers/import/result/$", "pk", "import_job", JOB_SCOPED),
    (r"customers/import/$", "pk", "preview_job", JOB_SCOPED),
    (r"customers/export/$", "pk", "export_job", JOB_SCOPED),
    (r"usage/import/$", "pk", "usage_job", JOB_SCOPED),
    (r"payments/import/$", "pk", "receipt_job", JOB_SCOPED),
    (r"whatif/jobs/$", "pk", "whatif_job", OWNER_SCOPED),
    (r"jobs/$", "pk", "job", JOB_SCOPED),
    (r"jobs/<pk>/$", "which", "job_file", EVERYONE),
    (r"customers/filters/$", "pk", "saved_filter", OWNER_SCOPED),
    (r"groups/$", "pk", "group", CUSTOMER_SCOPED),
    (r"customers/$", "pk", "customer", CUSTOMER_SCOPED),
    (r"customers/<pk>/tags/$", "tag_pk", "tag", EVERYONE),
    (r"sections/$", "section", "section", EVERYONE),
    (r"sections/<section>/$", "item_pk", "contact", CUSTOMER_SCOPED),
    (r"contacts/$", "pk", "contact", CUSTOMER_SCOPED),
    (r"plans/$", "pk", "plan", CUSTOMER_SCOPED),
    (r"plans/$", "plan_pk", "plan", CUSTOMER_SCOPED),
    (r"bills/$", "pk", "bill", CUSTOMER_SCOPED),
    (r"bills/<pk>/lines/$", "line_pk", "bill_line", CUSTOMER_SCOPED),
    (r"payments/$", "pk", "payment", CUSTOMER_SCOPED),
    (r"allocations/$", "pk", "allocation", CUSTOMER_SCOPED),
    (r"usage/$", "pk", "usage", CUSTOMER_SCOPED),
    (r"collections/packages/$", "pk", "plan", CUSTOMER_SCOPED),
    (r"collections/pipeline/plan/$", "pk", "plan", CUSTOMER_SCOPED),
    (r"collections/pipeline/renewal/$", "pk", "renewal", CUSTOMER_SCOPED),
    (r"collections/$", "pk", "customer", CUSTOMER_SCOPED),
    (r"notifications/$", "pk", "notification", OWNER_SCOPED),
    (r"schedules/$", "pk", "periodic_task", ADMIN_ONLY),
    (r"webhooks/deliveries/$", "pk", "webhook_delivery", ADMIN_ONLY),
    # Customer archive depth (issue 18): profile sections, Q&A entries and their rows.
    (r"profile/$", "section", "profile_section", EVERYONE),
    (r"issues/$", "issue_pk", "issue", CUSTOMER_SCOPED),
    (r"actions/$", "action_pk", "issue_action", CUSTOMER_SCOPED),
    (r"attachments/$", "attachment_pk", "issue_attachment", CUSTOMER_SCOPED),
    # The archive's settings pages: ops and admin only.
    (r"customers/settings/$", "kind", "setting_kind", SETTINGS_REFUSED),
    (r"customers/settings/<kind>/$", "item_pk", "dictionary_item", SETTINGS_REFUSED),
]

# Routes outside the sweep: Django's own admin checks `is_staff` and scopes by
# its ModelAdmins (tests/accounts cover it); everything else is swept.
SKIPPED_PREFIXES = ("admin/",)

ARG = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass
class Route:
    name: str
    route: str

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    def args(self) -> list[tuple[str, str]]:
        """(text before the argument with earlier arguments as <name>, argument name)."""
        found = []
        for match in ARG.finditer(self.route):
            before = ARG.sub(lambda m: f"<{m.group('name')}>", self.route[: match.start()])
            found.append((before, match.group("name")))
        return found


def _walk(resolver, prefix: str = "", namespace: str | None = None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if route.startswith(SKIPPED_PREFIXES) or not ARG.search(route):
                continue
            if pattern.name is None:
                continue
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield Route(name=name, route=route)


def id_routes() -> list[Route]:
    return list(_walk(get_resolver()))


def rule_for(before: str, arg: str):
    for pattern, name, key, roles in RULES:
        if name == arg and re.search(pattern, before):
            return key, roles
    return None


def test_the_sweep_sees_html_and_api_routes():
    # given the project's URLconf / when walked / then both kinds of id routes are found
    names = {r.name for r in id_routes()}
    assert "customers:customer-detail" in names
    assert "accounts:job-detail" in names
    assert any(name.startswith("api:") for name in names)
    assert any(name.startswith("billing:") for name in names)


def test_every_id_route_is_covered():
    # given every route that takes an argument / then a rule says what fills each argument
    unknown = [
        f"{r.name} ({r.route}): <{arg}>"
        for r in id_routes()
        for before, arg in r.args()
        if rule_for(before, arg) is None
    ]
    assert not unknown, "Add a RULES entry (object and scoped roles) for:\n" + "\n".join(unknown)


@pytest.fixture
def world(db):
    """Users of every role and a foreign world: a customer of another team's sales and its rows."""
    team = factories.TeamFactory()
    lead = factories.UserFactory(role=Role.SALES, username="sweep-lead", team=team)
    team.lead = lead
    team.save()
    users = {
        "sales": factories.UserFactory(role=Role.SALES, username="sweep-sales", team=team),
        "saleslead": lead,
        "ops": factories.UserFactory(role=Role.OPS, username="sweep-ops"),
        "manager": factories.UserFactory(role=Role.MANAGER, username="sweep-manager"),
        "admin": factories.UserFactory(role=Role.ADMIN, username="sweep-admin", is_superuser=True),
    }
    other_team = factories.TeamFactory()
    stranger = factories.UserFactory(role=Role.SALES, username="sweep-stranger", team=other_team)
    other_ops = factories.UserFactory(role=Role.OPS, username="sweep-other-ops")

    customer = factories.CustomerFactory(sales_owner=stranger)
    contact = factories.ContactFactory(customer=customer)
    tag = factories.TagFactory()
    customer.tags.add(tag)
    plan = factories.PricePlanFactory(customer=customer)
    usage = factories.UsageRecordFactory(customer=customer, series=plan.series)
    group = factories.CustomerGroupFactory(head_office=customer)
    type(customer).objects.filter(pk=customer.pk).update(group=group)
    bill = factories.ReportBillFactory(customer=customer, series_lines=[(plan.series, "100.00")])
    payment = factories.ReportPaymentFactory(customer=customer)
    allocation = factories.AllocationFactory(payment=payment, bill=bill, amount="10.00")
    jobs = {
        key: factories.JobFactory(kind=kind, created_by=other_ops, status="succeeded", params={})
        for key, kind in {
            "job": "test",
            "preview_job": "customer_import_preview",
            "import_job": "customer_import",
            "export_job": "customer_export",
            "usage_job": "usage_import",
            "receipt_job": "receipt_import",
            "whatif_job": "whatif",
        }.items()
    }
    renewal = factories.RenewalFactory(customer=customer)
    saved = SavedFilter.objects.create(owner=stranger, name="别人的筛选", query="q=x")
    notification = Notification.objects.create(
        recipient=stranger, kind=NotificationKind.JOB_DONE, event_key="sweep", title="别人的通知"
    )
    every_day, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.DAYS)
    periodic = PeriodicTask.objects.create(name="sweep", task="sweep.task", interval=every_day)
    subscription = WebhookSubscription.objects.create(
        name="sweep", url="http://127.0.0.1:9/hook", secret="s", events=["bill.issued"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="bill.issued", body="{}"
    )
    issue = factories.QualityIssueFactory(customer=customer)
    action = IssueAction.objects.create(issue=issue, description="别人的后续行动")
    attachment = issue_attachment_add(
        user=other_ops, issue=issue, fileobj=io.BytesIO(b"notes"), name="a.txt", size=5
    )
    region = factories.DictionaryItemFactory(value="别人的地区")
    objects = {
        "customer": customer.pk,
        "issue": issue.pk,
        "issue_action": action.pk,
        "issue_attachment": attachment.pk,
        "profile_section": "business",
        "setting_kind": "dictionary",
        "dictionary_item": region.pk,
        "contact": contact.pk,
        "tag": tag.pk,
        "plan": plan.pk,
        "usage": usage.pk,
        "bill": bill.pk,
        "bill_line": bill.lines.first().pk,
        "payment": payment.pk,
        "allocation": allocation.pk,
        "saved_filter": saved.pk,
        "renewal": renewal.pk,
        "notification": notification.pk,
        "periodic_task": periodic.pk,
        "webhook_delivery": delivery.pk,
        "section": "contacts",
        "job_file": "errors",
        "group": group.pk,
        **{key: job.pk for key, job in jobs.items()},
    }
    return users, objects


def test_no_role_reaches_an_object_outside_its_scope(world):
    users, objects = world
    checked = 0
    failures = []
    for route in id_routes():
        kwargs, roles = {}, set(EVERYONE)
        for before, arg in route.args():
            key, scoped = rule_for(before, arg)
            kwargs[arg] = objects[key]
            roles &= scoped
        url = reverse(route.name, kwargs=kwargs)
        for role in sorted(roles):
            client = APIClient()
            client.force_login(users[role])
            methods = ["get", "post", "delete"] if route.is_api else ["get", "post"]
            for method in methods:
                response = getattr(client, method)(url)
                checked += 1
                if response.status_code not in (403, 404, 405):
                    failures.append(
                        f"{role} {method.upper()} {url} ({route.name}) -> {response.status_code}"
                    )
    assert not failures, "Out-of-scope objects reached:\n" + "\n".join(failures)
    assert checked > 100
    # the foreign rows are all still there: no refused request wrote anything
    assert SavedFilter.objects.filter(pk=objects["saved_filter"]).exists()
