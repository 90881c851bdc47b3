"""`ilike_contains` (opcms/lookups.py): case-insensitive contains, as ILIKE."""

import pytest

from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("lianjia", ["LianJia 北京"]),
        ("LIANJIA", ["LianJia 北京"]),
        ("100%", ["100% 店"]),  # % and _ match themselves, not anything
        ("a_b", ["a_b 店"]),
        ("\\", ["back\\slash"]),
    ],
)
def test_matches_any_case_and_takes_wildcards_literally(term, expected):
    for name in ["LianJia 北京", "100% 店", "1000 店", "a_b 店", "axb 店", "back\\slash"]:
        CustomerFactory(name=name)

    found = Customer.objects.filter(name__ilike_contains=term).values_list("name", flat=True)

    assert sorted(found) == expected


def test_is_written_as_ilike_on_the_plain_column():
    sql = str(Customer.objects.filter(name__ilike_contains="ab").query)

    assert '"customers_customer"."name"::text ILIKE' in sql
    assert "UPPER(" not in sql
