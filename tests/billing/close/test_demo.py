"""On the demo month (seed_demo) anomalies are worth reading: at most 10 % of bills carry one."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import Bill
from opcms.months import month_shift

pytestmark = pytest.mark.django_db


def test_at_most_a_tenth_of_the_demo_months_bills_carry_an_anomaly():
    # Given the demo, whose latest month is left in draft for the month-end run
    call_command("seed_demo", stdout=StringIO())
    month = month_shift(timezone.localdate().replace(day=1), -1)

    # When the month is generated again as a clerk would
    out = StringIO()
    call_command("generate_bills", f"{month:%Y-%m}", stdout=out)

    # Then few bills carry an anomaly, and the summary line counts exactly those bills
    bills = list(Bill.objects.filter(period=month, kind=Bill.Kind.BILL))
    flagged = [b for b in bills if b.anomalies]
    assert len(bills) >= 50
    assert len(flagged) <= len(bills) / 10, [a for b in flagged for a in b.anomalies][:5]
    # a ¥0.00 bill left is a plan priced at ¥0 (free use), and its lines say so
    assert all(b.lines.exists() for b in bills if b.total == 0 and not b.anomalies)
    assert out.getvalue().strip().endswith(f"anomalies={len(flagged)}")


def test_the_demo_has_annual_packages_for_the_burn_down_and_the_pipeline(ops_user):
    from billing.collections.burndown import package_burn_downs
    from billing.collections.pipeline import pipeline_items

    # Given the demo
    call_command("seed_demo", stdout=StringIO())
    today = timezone.localdate()

    # When ops look at the package burn-down and the renewal pipeline
    burns_with_plans = package_burn_downs(ops_user, today=today)
    burns = [burn for _, burn in burns_with_plans]
    items = pipeline_items(ops_user, today=today)

    # Then four packages show each outcome: overrun, running out, room to spare, unlimited
    assert len(burns) == 4
    assert sum(b.unlimited for b in burns) == 1
    assert any(b.already_out for b in burns)
    assert any(b.projected_overage > 0 for b in burns)
    assert any(not b.unlimited and b.quota_out_on is None for b in burns)
    # and their contract years, ending this month, are in the renewal pipeline
    assert {item.customer for item in items} >= {plan.customer for plan, _ in burns_with_plans}


def test_every_demo_salesperson_has_billed_customers_and_a_second_run_changes_nothing():
    from accounts.models import User
    from accounts.roles import Role
    from billing.bills.selectors import scoped_bills
    from customers.models import Customer, Project
    from customers.qa.selectors import issues_search

    # Given the demo, seeded twice
    call_command("seed_demo", stdout=StringIO())
    owners = dict(Bill.objects.values_list("customer_id", "customer__sales_owner_id"))
    projects = Project.objects.count()
    call_command("seed_demo", stdout=StringIO())

    # Then each salesperson sees issued bills of their own customers
    for user in User.objects.filter(role=Role.SALES):
        assert scoped_bills(user).exclude(status=Bill.Status.DRAFT).exists(), user.username
        # and customers whose archive sections are filled in (issue 18), Q&A searchable
        mine = Customer.objects.filter(sales_owner=user)
        for related in ("projects", "ad_accounts", "business_profile", "regions"):
            assert mine.filter(**{f"{related}__isnull": False}).exists(), (user, related)
        assert issues_search(user).filter(actions__isnull=False).exists(), user.username
    # and the second run handed out nothing more, nor filled any archive twice
    assert dict(Bill.objects.values_list("customer_id", "customer__sales_owner_id")) == owners
    assert Project.objects.count() == projects


def test_the_demo_seeds_on_a_database_with_more_salespeople_than_unowned_billed_customers():
    from accounts.models import User
    from accounts.roles import Role
    from customers.models import Customer

    # Given a database (a bench's) holding hundreds of salespeople who own nothing
    User.objects.bulk_create(
        User(username=f"bench-sales-{i}", role=Role.SALES, is_active=True) for i in range(400)
    )

    # When the demo is seeded
    call_command("seed_demo", stdout=StringIO())

    # Then it finishes, every unowned billed customer it handed out went to one of them,
    # and a salesperson given none is simply left without
    handed = Customer.objects.filter(sales_owner__username__startswith="bench-sales-")
    assert handed.exists()
    assert handed.values("sales_owner").distinct().count() == handed.count()
