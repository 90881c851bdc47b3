"""The statement-level bill-line guards plan their queries at each call (EXECUTE), not once
per session: a cached plan joined a re-run's deleted lines to the bills by nested
sequential scans. Inserts of bills are checked against the period lock once per statement
instead of once per row (billing/line_guards.py)."""

from django.db import migrations

from billing.line_guards import BILL_INSERT_INSTALL, BILL_INSERT_UNINSTALL, GUARD_FUNCTIONS

# The functions as migration 0008 first installed them (statements planned once per session).
_PREVIOUS = "\n".join(
    f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
DECLARE
  hit record;
BEGIN
  SELECT b.id INTO hit FROM {table} l JOIN billing_bill b ON b.id = l.bill_id
   WHERE b.status <> 'draft' LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'lines of issued bill % are frozen', hit.id USING ERRCODE = '23514';
  END IF;
  SELECT b.period INTO hit FROM {table} l JOIN billing_bill b ON b.id = l.bill_id
   JOIN billing_period p ON p.month = b.period AND p.status = 'closed'
   WHERE b.kind = 'bill' LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION '% 已关账：该月账单的明细不能修改', to_char(hit.period, 'YYYY-MM')
      USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""  # noqa: S608 (constants, no user input)
    for name, table in (
        ("billing_billline_insert_guard", "inserted_lines"),
        ("billing_billline_delete_guard", "deleted_lines"),
    )
)


class Migration(migrations.Migration):
    dependencies = [("billing", "0009_report_indexes")]

    operations = [
        migrations.RunSQL(GUARD_FUNCTIONS, _PREVIOUS),
        migrations.RunSQL(BILL_INSERT_INSTALL, BILL_INSERT_UNINSTALL),
    ]
