"""ids_reserve: fresh ids of a table's sequence, in order, that later inserts never reuse."""

import pytest
from django.db import connection

from customers.models import Tag
from opcms.ids import ids_reserve
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db


def test_reserved_ids_are_increasing_and_never_given_again():
    with connection.cursor() as cursor:
        reserved = ids_reserve(cursor, Tag._meta.db_table, "id", 5)
        assert ids_reserve(cursor, Tag._meta.db_table, "id", 0) == []
    assert reserved == sorted(reserved) and len(set(reserved)) == 5
    assert TagFactory().pk > max(reserved)
