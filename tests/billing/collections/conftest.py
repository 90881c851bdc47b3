"""A sales team for the desk: lead 张组长 with sales1 王珂 and sales2, and another team's sales9."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def team(db, sales_user, other_sales_user):
    team = TeamFactory(name="华东组")
    lead = UserFactory(role=Role.SALES, username="lead1", full_name="张组长", team=team)
    team.lead = lead
    team.save()
    sales_user.team = team
    sales_user.save()
    sales2 = UserFactory(role=Role.SALES, username="sales2", full_name="李二", team=team)
    other_sales_user.team = TeamFactory(name="华南组")
    other_sales_user.save()
    return {"lead": lead, "sales1": sales_user, "sales2": sales2, "other": other_sales_user}
