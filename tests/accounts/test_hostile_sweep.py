"""Every GET route, as every role, with hostile query values: no answer may be a 5xx.

The routes come from walking the URL resolver, so a new page is swept without
anyone remembering to add it. Each request sets every query parameter the
project reads (and every filter a FilterSet declares) to the same hostile value.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import django_filters
import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.roles import Role
from tests import factories

# The values of issue 12 item 6 and the sweep: a superscript digit (isdigit() is
# true, int() fails), a 100,000-character value, NUL, bytes that are not UTF-8,
# SQL-ish text, numbers out of any range, NaN, and path tricks.
HOSTILE = {
    "superscript": "²",
    "long": "客" * 100_000,
    "nul": "a\x00b",
    "not_utf8": "%FF%FE%C3(",  # already percent-encoded: bytes that are not UTF-8
    "sqlish": "1' OR '1'='1'; DROP TABLE customers_customer;--",
}
# Values spread over the parameters in turn (parameter i gets MIXED[(i + shift) % n]),
# two requests per route, so each parameter meets several of them without a request each.
MIXED = ["9" * 40, "-1", "NaN", "1e30", "abc", "../../etc/passwd", "0", "2025-13-45"]

# Parameters read straight from request.GET somewhere in the project.
PARAMS = [
    "q", "page", "page_size", "sort", "ordering", "step", "discard", "customer", "company_id",
    "name", "ids", "scope", "edit", "version", "refresh", "open", "status", "kind", "period",
    "period_from", "period_to", "start", "end", "month", "month_from", "month_to", "series",
    "level", "sales_owner", "ops_owner", "tag", "cols", "cols_set", "anomalies", "year",
    "in_force_on", "shot_date_from", "shot_date_to", "received_from", "received_to", "format",
    "actor", "action", "model", "date_from", "date_to", "o", "p", "e", "all",
]  # fmt: skip
# The long value goes only into the free-text parameters (a whole query of them
# would be megabytes of query string, which no proxy forwards anyway).
LONG_PARAMS = ["q", "name", "company_id", "customer", "ids"]


def _filter_names() -> set[str]:
    names: set[str] = set()
    pending = list(django_filters.FilterSet.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        for name, filter_ in cls.base_filters.items():
            names.add(name)
            if isinstance(
                filter_, django_filters.RangeFilter | django_filters.DateFromToRangeFilter
            ):
                names.update({f"{name}_after", f"{name}_before", f"{name}_min", f"{name}_max"})
    return names


def _routes(resolver=None, prefix: str = "", namespace: str = ""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _routes(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else (entry.name or "")
            yield prefix + str(entry.pattern), name


def _id_for(name: str, kwarg: str, world: dict) -> str:
    """The id of a world object the route's kwarg most likely names."""
    if kwarg == "which":
        return "result"
    if kwarg == "section":
        return "contacts"
    if kwarg == "item_pk":
        return str(world["contact"].pk)
    if kwarg == "tag_pk":
        return str(world["tag"].pk)
    if kwarg == "line_pk":
        return str(world["line"].pk)
    if kwarg == "plan_pk":
        return str(world["plan"].pk)
    for fragment, key in (
        ("savedfilter", "saved"),
        ("import", "job"),
        ("receipt", "job"),
        ("export", "job"),
        ("job", "job"),
        ("contact-", "contact"),
        ("plan-", "plan"),
        ("allocation", "allocation"),
        ("payment", "payment"),
        ("bill", "bill"),
    ):
        if fragment in name:
            return str(world[key].pk)
    return str(world["customer"].pk)


def _concrete_paths(world: dict) -> list[str]:
    paths = []
    for pattern, name in _routes():
        if pattern == "healthz":
            continue  # answers 503 by design when a dependency is down (tests/billing/operations)
        if pattern.startswith("admin/") and "<" in pattern:
            continue  # admin object pages: Django's own, covered by its changelists below
        path = pattern.replace("^", "").replace("$", "").replace(".*", "x")
        for kwarg in re.findall(r"<(?:\w+:)?(\w+)>", path):
            path = re.sub(rf"<(?:\w+:)?{kwarg}>", _id_for(name, kwarg, world), path)
        if "(?P" in path:
            continue
        paths.append("/" + path)
    return sorted(set(paths))


def _log(line: str) -> None:
    import os

    target = os.environ.get("OPCMS_SWEEP_LOG")
    if target:
        with open(target, "a") as fh:
            fh.write(line + "\n")


def _query(value: str, params: list[str]) -> str:
    encoded = value if value == HOSTILE["not_utf8"] else quote(value, safe="")
    return "&".join(f"{p}={encoded}" for p in params)


def _mixed_query(params: list[str], shift: int) -> str:
    return "&".join(
        f"{p}={quote(MIXED[(i + shift) % len(MIXED)], safe='')}" for i, p in enumerate(params)
    )


def _queries(params: list[str]) -> list[tuple[str, str]]:
    queries = [
        (label, _query(value, LONG_PARAMS if label == "long" else params))
        for label, value in HOSTILE.items()
    ]
    queries += [(f"mixed{shift}", _mixed_query(params, shift)) for shift in (0, 3, 5)]
    return queries


@pytest.fixture
def sweep_world(admin_user, manager_user, ops_user, sales_user):
    customer = factories.CustomerFactory(sales_owner=sales_user)
    bill = factories.ApiBillFactory(customer=customer)
    payment = factories.ApiPaymentFactory(customer=customer)
    tag = factories.TagFactory()
    customer.tags.add(tag)
    from billing.payments.services import payment_allocate
    from customers.models import SavedFilter

    (allocation,) = payment_allocate(user=ops_user, payment=payment, allocations=[(bill, 100)])
    return {
        "customer": customer,
        "bill": bill,
        "line": factories.ReportBillLineFactory(
            bill=factories.ReportBillFactory(
                customer=customer, status="draft", period=dt.date(2025, 11, 1)
            )
        ),
        "payment": payment,
        "allocation": allocation,
        "contact": factories.ApiContactFactory(customer=customer),
        "plan": factories.ApiPricePlanFactory(customer=customer, valid_from=dt.date(2025, 1, 1)),
        "tag": tag,
        "job": factories.JobFactory(created_by=sales_user),
        "saved": SavedFilter.objects.create(owner=sales_user, name="f", query="q=1"),
        "users": {
            Role.ADMIN: admin_user,
            Role.MANAGER: manager_user,
            Role.OPS: ops_user,
            Role.SALES: sales_user,
        },
    }


def test_no_get_route_answers_5xx_to_hostile_query_values(sweep_world, settings):
    # given every GET route of the project and a user of every role (and nobody)
    settings.ALLOWED_HOSTS = ["testserver"]
    client = Client(raise_request_exception=False)
    params = sorted(set(PARAMS) | _filter_names())
    paths = _concrete_paths(sweep_world)
    queries = _queries(params)
    assert len(paths) > 80, paths
    failures: list[str] = []
    requests = 0
    # when each route is requested with each hostile value in every parameter
    for role, user in [(None, None), *sweep_world["users"].items()]:
        client.logout()
        if user is not None:
            client.force_login(user)
        for path in paths:
            if path.startswith("/admin/") and role != Role.ADMIN:
                continue  # only admins get past the admin login; others see its redirect
            for label, query in queries if user is not None else queries[:1]:
                response = client.get(path, QUERY_STRING=query)
                requests += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{role or 'anonymous'} {path} {label} -> {response.status_code}"
                    )
                    _log(failures[-1])
    _log(f"routes={len(paths)} parameters={len(params)} requests={requests} 5xx={len(failures)}")
    # then none of them answered with a server error
    assert requests > 2500
    assert not failures, f"{len(failures)} of {requests} requests failed:\n" + "\n".join(failures)
