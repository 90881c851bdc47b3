"""The money data version: a number that moves whenever anything a report sums may change.

Statement-level triggers (one call per statement, not per row, so bulk writes stay cheap)
on bills, bill lines, payments, allocations, usage, customers, groups, device series
and users' role, data scope or team (scopes follow them) take the next
value of the sequence `billing_data_version` and record the writing transaction's id in
`billing_data_writer`. Reports cache their aggregates keyed on the version
(reports.selectors.cached_figures), so a cached figure is never read after a write that
could change it.

A sequence is not transactional: a writer bumps the version before it commits. So a
reader does not cache while the last writer is still in progress, nor inside a
transaction that has written itself (its own uncommitted rows could roll back).
"""

from __future__ import annotations

from django.db import connection

TABLES = (
    "billing_bill",
    "billing_billline",
    "billing_payment",
    "billing_paymentallocation",
    "billing_usagerecord",
    "customers_customer",
    "customers_customergroup",
    "customers_deviceseries",
)
# Scopes follow a user's role, data scope and team: only changes to those move the version
# (a login's last_login update does not).
USER_COLUMNS = "role, data_scope, team_id, is_active"

POSTGRES_INSTALL = [
    "CREATE SEQUENCE IF NOT EXISTS billing_data_version",
    "CREATE SEQUENCE IF NOT EXISTS billing_data_writer MINVALUE 0 START 0",
    """
    CREATE OR REPLACE FUNCTION billing_data_version_bump() RETURNS trigger AS $$
    BEGIN
        PERFORM nextval('billing_data_version');
        PERFORM setval('billing_data_writer', pg_current_xact_id()::text::bigint);
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    *[
        f"""
        CREATE TRIGGER {table}_data_version
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION billing_data_version_bump()
        """
        for table in TABLES
    ],
    f"""
    CREATE TRIGGER accounts_user_data_version
    AFTER INSERT OR UPDATE OF {USER_COLUMNS} OR DELETE OR TRUNCATE ON accounts_user
    FOR EACH STATEMENT EXECUTE FUNCTION billing_data_version_bump()
    """,
]

POSTGRES_UNINSTALL = [
    *[f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}" for table in TABLES],
    "DROP TRIGGER IF EXISTS accounts_user_data_version ON accounts_user",
    "DROP FUNCTION IF EXISTS billing_data_version_bump()",
    "DROP SEQUENCE IF EXISTS billing_data_writer",
    "DROP SEQUENCE IF EXISTS billing_data_version",
]

_READ = """
SELECT (SELECT oid FROM pg_database WHERE datname = current_database()),
       (SELECT last_value FROM billing_data_version),
       (SELECT CASE WHEN last_value = 0 THEN NULL
                    ELSE pg_xact_status(last_value::text::xid8) END FROM billing_data_writer),
       pg_current_xact_id_if_assigned() IS NULL
"""


def data_version() -> str | None:
    """The current version as a cache-key part, or None when figures must not be cached
    (the last writer has not finished, or this transaction has written)."""
    with connection.cursor() as cursor:
        cursor.execute(_READ)
        database, version, writer_status, clean = cursor.fetchone()
    if writer_status == "in progress" or not clean:
        return None
    return f"{database}:{version}"
