"""The data-scope matrix: which customers `scoped_customers` returns for each role and scope."""

import pytest

from accounts.roles import Role, Scope, effective_scope
from customers.selectors import scoped_customers
from tests.factories import CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two teams; a lead, a member and an outsider; one customer each plus an unowned one."""
    team = TeamFactory()
    lead = UserFactory(role=Role.SALES, team=team)
    team.lead = lead
    team.save()
    member = UserFactory(role=Role.SALES, team=team)
    outsider = UserFactory(role=Role.SALES, team=TeamFactory())
    customers = {
        "lead": CustomerFactory(sales_owner=lead),
        "member": CustomerFactory(sales_owner=member),
        "outsider": CustomerFactory(sales_owner=outsider),
        "nobody": CustomerFactory(sales_owner=None, sales_owner_raw="未匹配的人"),
    }
    deleted = CustomerFactory(sales_owner=member, is_deleted=True)
    return {
        "lead": lead,
        "member": member,
        "outsider": outsider,
        "c": customers,
        "deleted": deleted,
    }


def visible(user, world):
    names = {v.pk: k for k, v in world["c"].items()}
    return {names[pk] for pk in scoped_customers(user).values_list("pk", flat=True)}


ALL = {"lead", "member", "outsider", "nobody"}


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        (Role.ADMIN, "", ALL),
        (Role.MANAGER, "", ALL),
        (Role.OPS, "", ALL),
        (Role.SALES, "", {"member"}),
        (Role.SALES, Scope.OWN, {"member"}),
        (Role.SALES, Scope.TEAM, {"lead", "member"}),
        (Role.SALES, Scope.ALL, ALL),
        ("", "", set()),
        ("", Scope.ALL, set()),
    ],
)
def test_scope_matrix_for_a_team_member(world, role, scope, expected):
    user = world["member"]
    user.role = role
    user.data_scope = scope
    user.save()

    assert visible(user, world) == expected


def test_sales_lead_sees_the_team_by_default(world):
    assert effective_scope(world["lead"]) == Scope.TEAM
    assert visible(world["lead"], world) == {"lead", "member"}


def test_outsider_sees_only_own(world):
    assert visible(world["outsider"], world) == {"outsider"}


def test_inactive_and_anonymous_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    member = world["member"]
    member.is_active = False
    member.save()
    assert visible(member, world) == set()
    assert visible(AnonymousUser(), world) == set()


def test_soft_deleted_customers_are_hidden_unless_asked(world, admin_user):
    assert world["deleted"] not in scoped_customers(admin_user)
    assert world["deleted"] in scoped_customers(admin_user, include_deleted=True)


def test_a_leads_teams_are_read_once_per_user_object_and_anew_per_request(world, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import TeamFactory

    lead = world["lead"]
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(3):
            assert effective_scope(lead) == Scope.TEAM
            assert visible(lead, world) == {"lead", "member"}
    assert sum('"accounts_team"' in q["sql"] for q in ctx.captured_queries) == 1
    # A request loads its user afresh: a team the lead takes on shows on the next one.
    other = TeamFactory(lead=lead)
    newcomer = UserFactory(role=Role.SALES, team=other)
    CustomerFactory(sales_owner=newcomer, name="新成员的客户")
    client.force_login(lead)
    assert "新成员的客户" in client.get("/customers/").content.decode()
