"""The bill-line guards (freeze and period lock) checked once per statement for inserts and deletes.

billing/freeze.py and billing/close/lock.py guard lines with row triggers that look up
the line's bill (and its month) for every row: generation's COPY of 200,000 lines ran
800,000 such lookups inside the write. These statement triggers apply the same two rules
to the whole set of inserted (or deleted) lines with one join each, after the statement
and before it returns, so a forbidden write still fails as a whole with SQLSTATE 23514
(IntegrityError in Django) and the same messages. Updates keep the row triggers.

- freeze: no line of a bill that has left draft is inserted or deleted;
- period lock: no line of a bill (not a credit note) of a closed month is inserted or deleted.

Bills themselves: the period lock's row trigger (close/lock.py) cost 3 of the 7 seconds of
inserting 100,000 drafts, so inserts of bills are checked once per statement too
(BILL_INSERT_INSTALL, migration 0010): no bill (not a credit note) of a closed month is
created. Updates and deletes of bills keep the row trigger.
"""

from __future__ import annotations


def _guard(name: str, table: str) -> str:
    # The query runs by EXECUTE, so it is planned at each call with the real number of
    # lines: a plan cached for the session (PL/pgSQL's default) made on a small statement, or
    # on statistics from before the month's bills were written, joined 37,000 deleted
    # lines to 20,000 bills by nested sequential scans (minutes instead of milliseconds).
    # Both rules are read in one pass over the lines' bills (a join each of 185,000 inserted
    # lines with the bills cost 370 ms); the freeze is still the one reported first.
    # noqa: S608 below: name and table are the constants of POSTGRES_INSTALL, no user input
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
DECLARE
  hit_id bigint;
  hit_period date;
BEGIN
  EXECUTE 'SELECT max(b.id) FILTER (WHERE b.status <> ''draft''),
                  max(b.period) FILTER (WHERE b.kind = ''bill'' AND p.month IS NOT NULL)
             FROM {table} l JOIN billing_bill b ON b.id = l.bill_id
             LEFT JOIN billing_period p ON p.month = b.period AND p.status = ''closed'''
    INTO hit_id, hit_period;
  IF hit_id IS NOT NULL THEN
    RAISE EXCEPTION 'lines of issued bill % are frozen', hit_id USING ERRCODE = '23514';
  END IF;
  IF hit_period IS NOT NULL THEN
    RAISE EXCEPTION '% 已关账：该月账单的明细不能修改', to_char(hit_period, 'YYYY-MM')
      USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""  # noqa: S608


# The guard functions alone (migration 0010 replaces them in place).
GUARD_FUNCTIONS = _guard("billing_billline_insert_guard", "inserted_lines") + _guard(
    "billing_billline_delete_guard", "deleted_lines"
)

POSTGRES_INSTALL = f"""
{GUARD_FUNCTIONS}
DROP TRIGGER IF EXISTS billing_billline_freeze ON billing_billline;
CREATE TRIGGER billing_billline_freeze BEFORE UPDATE ON billing_billline
  FOR EACH ROW EXECUTE FUNCTION billing_billline_freeze();
DROP TRIGGER IF EXISTS billing_billline_period_lock ON billing_billline;
CREATE TRIGGER billing_billline_period_lock BEFORE UPDATE ON billing_billline
  FOR EACH ROW EXECUTE FUNCTION billing_billline_period_lock();
DROP TRIGGER IF EXISTS billing_billline_insert_guard ON billing_billline;
CREATE TRIGGER billing_billline_insert_guard AFTER INSERT ON billing_billline
  REFERENCING NEW TABLE AS inserted_lines
  FOR EACH STATEMENT EXECUTE FUNCTION billing_billline_insert_guard();
DROP TRIGGER IF EXISTS billing_billline_delete_guard ON billing_billline;
CREATE TRIGGER billing_billline_delete_guard AFTER DELETE ON billing_billline
  REFERENCING OLD TABLE AS deleted_lines
  FOR EACH STATEMENT EXECUTE FUNCTION billing_billline_delete_guard();
"""  # noqa: S608 (table names are constants; no user input)

# Back to the row triggers of freeze.py and close/lock.py for every operation.
POSTGRES_UNINSTALL = """
DROP TRIGGER IF EXISTS billing_billline_insert_guard ON billing_billline;
DROP TRIGGER IF EXISTS billing_billline_delete_guard ON billing_billline;
DROP FUNCTION IF EXISTS billing_billline_insert_guard();
DROP FUNCTION IF EXISTS billing_billline_delete_guard();
DROP TRIGGER IF EXISTS billing_billline_freeze ON billing_billline;
CREATE TRIGGER billing_billline_freeze BEFORE INSERT OR UPDATE OR DELETE ON billing_billline
  FOR EACH ROW EXECUTE FUNCTION billing_billline_freeze();
DROP TRIGGER IF EXISTS billing_billline_period_lock ON billing_billline;
CREATE TRIGGER billing_billline_period_lock BEFORE INSERT OR UPDATE OR DELETE ON billing_billline
  FOR EACH ROW EXECUTE FUNCTION billing_billline_period_lock();
"""


BILL_INSERT_INSTALL = """
CREATE OR REPLACE FUNCTION billing_bill_insert_guard() RETURNS trigger AS $$
DECLARE
  hit_period date;
BEGIN
  EXECUTE 'SELECT b.period FROM inserted_bills b
            JOIN billing_period p ON p.month = b.period AND p.status = ''closed''
            WHERE b.kind = ''bill'' LIMIT 1' INTO hit_period;
  IF hit_period IS NOT NULL THEN
    RAISE EXCEPTION '% 已关账：不能再生成该月的账单', to_char(hit_period, 'YYYY-MM')
      USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS billing_bill_period_lock ON billing_bill;
CREATE TRIGGER billing_bill_period_lock BEFORE UPDATE OR DELETE ON billing_bill
  FOR EACH ROW EXECUTE FUNCTION billing_bill_period_lock();
DROP TRIGGER IF EXISTS billing_bill_insert_guard ON billing_bill;
CREATE TRIGGER billing_bill_insert_guard AFTER INSERT ON billing_bill
  REFERENCING NEW TABLE AS inserted_bills
  FOR EACH STATEMENT EXECUTE FUNCTION billing_bill_insert_guard();
"""

# Back to close/lock.py's row trigger for inserts of bills too.
BILL_INSERT_UNINSTALL = """
DROP TRIGGER IF EXISTS billing_bill_insert_guard ON billing_bill;
DROP FUNCTION IF EXISTS billing_bill_insert_guard();
DROP TRIGGER IF EXISTS billing_bill_period_lock ON billing_bill;
CREATE TRIGGER billing_bill_period_lock BEFORE INSERT OR UPDATE OR DELETE ON billing_bill
  FOR EACH ROW EXECUTE FUNCTION billing_bill_period_lock();
"""
