"""The 24-hour measure's per-bill facts and cases, kept on write by the database
(billing.models.BillMeasureFact and MeasureCase).

The measure (billing/collections/selectors.py, measure_24h) asks of every bill that fell
overdue in a period what was still owed at that moment and what was collected in the 30 days
after it. Computed from the allocations at each read, that is an index probe per bill: 188,000
bills in a 30-day window at 100,000 customers, most of a second. The facts hold the two sums
per bill, so the measure reads one narrow table:

- `start`: the moment the bill fell overdue, midnight (the project's time zone) after its due
  date, as `overdue_start` computes it;
- `paid_before`: live allocations (not undone) to the bill made before `start`;
- `collected`: live allocations made in the 30 × 24 hours from `start`.

A row exists for each bill the measure counts: kind `bill`, issued, partially paid or paid,
with a due date. Statement-level triggers keep the rows exact in the transaction and
statement of every write, whatever the path:

- billing_bill: an inserted bill adds its row (no allocation can exist yet); an update that
  changes whether a bill counts, its customer, due date or total rewrites that bill's row from
  its allocations; a deleted bill's row goes;
- billing_paymentallocation: any insert, update (an undo) or delete recomputes the sums of
  the bills it names, from their allocations;
- customers_customer: a new owner, a deletion or restoring is copied to the customer's rows
  (each row keeps its customer's owner and deletion, so the measure is scoped by the owner
  without a join with 100,000 customers).

The measure reads cases, not bills: MeasureCase sums the facts of a customer's bills falling
due on one day, kept by a trigger on the facts that adds each statement's changes per case
(the customers' trigger copies a new owner or deletion to the cases as well). A period's
cases are one index range of a narrow table, with no grouping and no join.

The time zone is fixed in the SQL function billing_measure_zone() when the facts are
installed (the migration) or rebuilt (`rebuild_money_totals`); the measure reads the facts
only while that zone is the current one, and computes from the allocations otherwise.
`rebuild()` recomputes every row; tests compare the kept facts with that recompute and the
measure read from them with the measure computed from the allocations.
"""
# ruff: noqa: S608 - the SQL is built from this module's constants only, never from input

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from billing.money_totals import BILLED, customer_update_trigger, statement_triggers

TABLE = "billing_billmeasurefact"
# The collection window of the measure (COLLECT_DAYS in selectors) in hours: an interval in
# hours does not depend on the session's time zone, unlike one in days.
COLLECT_HOURS = 30 * 24

_COUNTED = f"b.kind = 'bill' AND b.status IN {BILLED} AND b.due_date IS NOT NULL"


def zone_function(zone: str) -> str:
    """The function fixing the time zone of the facts' `start` (a literal, quoted)."""
    quoted = zone.replace("'", "''")
    return f"""
CREATE OR REPLACE FUNCTION billing_measure_zone() RETURNS text
  STABLE PARALLEL SAFE LANGUAGE sql AS $$ SELECT '{quoted}'::text $$;
"""


def _rows(source: str, where: str, *, lock: bool = True) -> str:
    """The fact rows of the counted bills of `source` (a table of bills) matching `where`, with
    their customer's owner and deletion and their sums computed from the allocations. The
    customers are read FOR SHARE (`lock`), so a concurrent reassignment waits for the bill or
    the bill for it, and the row ends with the owner the customer ends with."""
    share = "ORDER BY id FOR SHARE" if lock else ""
    return f"""
    WITH b AS (SELECT * FROM {source} b WHERE {_COUNTED} AND {where}),
    keys AS (
      SELECT id, sales_owner_id, is_deleted FROM customers_customer
       WHERE id IN (SELECT customer_id FROM b) {share}
    )
    SELECT b.id, b.customer_id, k.sales_owner_id, k.is_deleted, b.due_date, s.start, b.total,
           COALESCE(x.before_start, 0), COALESCE(x.collected, 0)
      FROM b JOIN keys k ON k.id = b.customer_id
     CROSS JOIN LATERAL (
           SELECT ((b.due_date + 1)::timestamp AT TIME ZONE billing_measure_zone()) AS start
     ) s
      LEFT JOIN LATERAL (
           SELECT SUM(a.amount) FILTER (WHERE a.created_at < s.start) AS before_start,
                  SUM(a.amount) FILTER (
                    WHERE a.created_at >= s.start
                      AND a.created_at < s.start + interval '{COLLECT_HOURS} hours'
                  ) AS collected
             FROM billing_paymentallocation a
            WHERE a.bill_id = b.id AND a.undone_at IS NULL
     ) x ON true"""


_INSERT = (
    f"INSERT INTO {TABLE} (bill_id, customer_id, sales_owner_id, customer_deleted, due_date,"
    " start, total, paid_before, collected)"
)

# A new bill has no allocation: its sums are zero (no probe per bill of a 100,000-bill insert).
BILL_INSERT_SQL = f"""
{_INSERT}
WITH keys AS (
  SELECT id, sales_owner_id, is_deleted FROM customers_customer
   WHERE id IN (SELECT customer_id FROM new_bills b WHERE {_COUNTED}) ORDER BY id FOR SHARE
)
SELECT b.id, b.customer_id, k.sales_owner_id, k.is_deleted, b.due_date,
       ((b.due_date + 1)::timestamp AT TIME ZONE billing_measure_zone()), b.total, 0, 0
  FROM new_bills b JOIN keys k ON k.id = b.customer_id WHERE {_COUNTED}"""


def _customer_copy(table: str) -> str:
    """A customer's new owner, or its deletion or restoring, copied to its rows in `table`."""
    return f"""
UPDATE {table} f SET sales_owner_id = n.sales_owner_id, customer_deleted = n.is_deleted
  FROM new_customers n JOIN old_customers o ON o.id = n.id
 WHERE f.customer_id = n.id
   AND (o.sales_owner_id, o.is_deleted) IS DISTINCT FROM (n.sales_owner_id, n.is_deleted)"""


# The bills whose row changes: whether they count, their customer, due date or total (a
# payment settling a bill changes its status between two counted ones: no row changes).
BILL_CHANGED_SQL = f"""
SELECT array_agg(n.id) FROM new_bills n JOIN old_bills o ON o.id = n.id
 WHERE (n.kind = 'bill' AND n.status IN {BILLED}, n.customer_id, n.due_date, n.total)
       IS DISTINCT FROM (o.kind = 'bill' AND o.status IN {BILLED}, o.customer_id, o.due_date,
                         o.total)"""

BILL_DELETE_SQL = f"DELETE FROM {TABLE} WHERE bill_id IN (SELECT id FROM old_bills)"

# The sums of the named bills, recomputed from their allocations; rows whose sums did not move
# are not written.
SUMS_SQL = f"""
UPDATE {TABLE} f SET paid_before = x.paid_before, collected = x.collected
  FROM (
    SELECT f2.bill_id,
           COALESCE(SUM(a.amount) FILTER (WHERE a.created_at < f2.start), 0) AS paid_before,
           COALESCE(SUM(a.amount) FILTER (
             WHERE a.created_at >= f2.start
               AND a.created_at < f2.start + interval '{COLLECT_HOURS} hours'
           ), 0) AS collected
      FROM {TABLE} f2
      LEFT JOIN billing_paymentallocation a ON a.bill_id = f2.bill_id AND a.undone_at IS NULL
     WHERE f2.bill_id = ANY($1)
     GROUP BY f2.bill_id
  ) x
 WHERE f.bill_id = x.bill_id
   AND (f.paid_before, f.collected) IS DISTINCT FROM (x.paid_before, x.collected)"""

# --- the cases: a customer's bills falling due on one day, summed ---------------------------
# What a bill still owed when it fell overdue (total − paid before) is never negative, and a
# bill that owed nothing can collect nothing after: a case's owed and collected are the plain
# sums of its bills', and it is a case of the measure while it owes something. The facts'
# trigger adds each statement's changes per case.

CASE_TABLE = "billing_measurecase"


def _case_rows(table: str, sign: str) -> str:
    return f"""
        SELECT customer_id, due_date, start, sales_owner_id, customer_deleted, {sign}1 AS n,
               {sign}(total - paid_before) AS o, {sign}collected AS c
          FROM {table}"""


def _case_delta(rows: str) -> str:
    return f"""
    WITH grouped AS (
        SELECT customer_id, due_date, min(start), max(sales_owner_id), bool_or(customer_deleted),
               sum(n), sum(o), sum(c)
          FROM ({rows}) AS r
         GROUP BY 1, 2
        HAVING sum(n) <> 0 OR sum(o) <> 0 OR sum(c) <> 0
    ),
    changed AS (
        INSERT INTO {CASE_TABLE} AS s (customer_id, due_date, start, sales_owner_id,
                                       customer_deleted, bills, owed, collected)
        SELECT * FROM grouped ORDER BY 1, 2
        ON CONFLICT (customer_id, due_date) DO UPDATE SET
            bills = s.bills + EXCLUDED.bills,
            owed = s.owed + EXCLUDED.owed,
            collected = s.collected + EXCLUDED.collected
        RETURNING s.id, s.bills
    )
    SELECT array_agg(id) FROM changed WHERE bills = 0"""


def _case_statement(rows: str) -> str:
    """Add the rows' deltas, then delete the cases left with no bill."""
    return f"""
    EXECUTE $q${_case_delta(rows)}$q$ INTO ids;
    IF ids IS NOT NULL THEN
      DELETE FROM {CASE_TABLE} WHERE id = ANY(ids) AND bills = 0;
    END IF;"""


CASE_REBUILD_SQL = f"""
DELETE FROM {CASE_TABLE};
INSERT INTO {CASE_TABLE} (customer_id, due_date, start, sales_owner_id, customer_deleted, bills,
                          owed, collected)
SELECT customer_id, due_date, min(start), max(sales_owner_id), bool_or(customer_deleted),
       count(*), sum(total - paid_before), sum(collected)
  FROM {TABLE} GROUP BY 1, 2;
"""

# Rows exist for counted bills only: an update with no counted bill before or after (the
# drafts a re-run of generation reprices) changes no row, and skips the join of its old and
# new rows (0.6 s for 100,000 drafts).
BILL_COUNTED_SQL = f"""
SELECT EXISTS (SELECT 1 FROM new_bills b WHERE {_COUNTED})
    OR EXISTS (SELECT 1 FROM old_bills b WHERE {_COUNTED})"""

# Statements are planned at each call (EXECUTE), like billing/money_totals.py: a plan cached
# for a one-row statement would serve a 100,000-row one.
BILL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION billing_bill_measure_facts() RETURNS trigger AS $$
DECLARE
  ids bigint[];
  counted boolean;
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE $q${BILL_INSERT_SQL}$q$;
  ELSIF TG_OP = 'UPDATE' THEN
    EXECUTE $q${BILL_COUNTED_SQL}$q$ INTO counted;
    IF counted THEN
      EXECUTE $q${BILL_CHANGED_SQL}$q$ INTO ids;
    END IF;
    IF ids IS NOT NULL THEN
      EXECUTE $q$DELETE FROM {TABLE} WHERE bill_id = ANY($1)$q$ USING ids;
      EXECUTE $q${_INSERT} {_rows("billing_bill", "b.id = ANY($1)")}$q$ USING ids;
    END IF;
  ELSE
    EXECUTE $q${BILL_DELETE_SQL}$q$;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

FUNCTIONS = (
    BILL_FUNCTION
    + f"""
CREATE OR REPLACE FUNCTION billing_customer_measure_facts() RETURNS trigger AS $$
BEGIN
  EXECUTE $q${_customer_copy(TABLE)}$q$;
  EXECUTE $q${_customer_copy(CASE_TABLE)}$q$;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_measure_cases() RETURNS trigger AS $$
DECLARE
  ids bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN {_case_statement(_case_rows("new_facts", ""))}
  ELSIF TG_OP = 'UPDATE' THEN {
        _case_statement(_case_rows("new_facts", "") + " UNION ALL " + _case_rows("old_facts", "-"))
    }
  ELSE {_case_statement(_case_rows("old_facts", "-"))}
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_allocation_measure_facts() RETURNS trigger AS $$
DECLARE
  ids bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT bill_id) INTO ids FROM new_allocations;
  ELSIF TG_OP = 'UPDATE' THEN
    SELECT array_agg(DISTINCT bill_id) INTO ids
      FROM (SELECT bill_id FROM new_allocations UNION SELECT bill_id FROM old_allocations) u;
  ELSE
    SELECT array_agg(DISTINCT bill_id) INTO ids FROM old_allocations;
  END IF;
  IF ids IS NOT NULL THEN
    EXECUTE $q${SUMS_SQL}$q$ USING ids;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""
)


# The cases are recomputed from the facts at the end (their trigger would add every row).
REBUILD_SQL = f"""
LOCK TABLE billing_bill, billing_paymentallocation, customers_customer IN SHARE MODE;
ALTER TABLE {TABLE} DISABLE TRIGGER USER;
DELETE FROM {TABLE};
{_INSERT} {_rows("billing_bill", "true", lock=False)};
ALTER TABLE {TABLE} ENABLE TRIGGER USER;
{CASE_REBUILD_SQL}"""


def install_sql(zone: str) -> str:
    return (
        zone_function(zone)
        + FUNCTIONS
        + statement_triggers(
            "billing_bill", "billing_bill_measure_facts", "old_bills", "new_bills", "measure"
        )
        + statement_triggers(
            "billing_paymentallocation",
            "billing_allocation_measure_facts",
            "old_allocations",
            "new_allocations",
            "measure",
        )
        + statement_triggers(TABLE, "billing_measure_cases", "old_facts", "new_facts", "measure")
        + customer_update_trigger("measure_facts", "billing_customer_measure_facts")
        + REBUILD_SQL
    )


UNINSTALL_SQL = """
DROP TRIGGER IF EXISTS customers_customer_measure_facts ON customers_customer;
DROP TRIGGER IF EXISTS billing_paymentallocation_measure_insert ON billing_paymentallocation;
DROP TRIGGER IF EXISTS billing_paymentallocation_measure_update ON billing_paymentallocation;
DROP TRIGGER IF EXISTS billing_paymentallocation_measure_delete ON billing_paymentallocation;
DROP TRIGGER IF EXISTS billing_bill_measure_insert ON billing_bill;
DROP TRIGGER IF EXISTS billing_bill_measure_update ON billing_bill;
DROP TRIGGER IF EXISTS billing_bill_measure_delete ON billing_bill;
DROP TRIGGER IF EXISTS billing_billmeasurefact_measure_insert ON billing_billmeasurefact;
DROP TRIGGER IF EXISTS billing_billmeasurefact_measure_update ON billing_billmeasurefact;
DROP TRIGGER IF EXISTS billing_billmeasurefact_measure_delete ON billing_billmeasurefact;
DROP FUNCTION IF EXISTS billing_measure_cases();
DROP FUNCTION IF EXISTS billing_customer_measure_facts();
DROP FUNCTION IF EXISTS billing_allocation_measure_facts();
DROP FUNCTION IF EXISTS billing_bill_measure_facts();
DROP FUNCTION IF EXISTS billing_measure_zone();
"""


def zone() -> str:
    """The time zone the facts were computed in."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT billing_measure_zone()")
        return cursor.fetchone()[0]


def rebuild() -> None:
    """Fix the facts' time zone to the project's and recompute every row (writers of bills and
    allocations wait meanwhile)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(zone_function(settings.TIME_ZONE) + REBUILD_SQL)
