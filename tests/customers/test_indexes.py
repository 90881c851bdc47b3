"""The customer table's indexes: every one is maintained by each imported row (issue 17)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def index_definitions(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


@pytest.mark.parametrize(
    ("table", "twins"),
    [
        # LIKE 'x%' is asked of no customer column (db_index=True adds an index for it).
        ("customers_customer", ("upper(", "varchar_pattern_ops")),
        # Searches use ILIKE, which the plain trigram index answers: no UPPER() twin.
        ("customers_contact", ("upper(",)),
    ],
)
def test_no_index_twin_that_no_query_asks_for(table, twins):
    definitions = index_definitions(table).values()

    assert not [d for d in definitions if any(twin in d.lower() for twin in twins)]


@pytest.mark.parametrize(
    ("index", "condition"),
    [
        ("customer_sales_raw_trgm", "WHERE (NOT ((sales_owner_raw)::text = ''::text))"),
        ("customer_deleted_idx", "WHERE is_deleted"),
        ("customer_group_idx", "WHERE (group_id IS NOT NULL)"),
    ],
)
def test_indexes_of_rare_values_leave_an_imported_row_out(index, condition):
    assert index_definitions("customers_customer")[index].endswith(condition)
