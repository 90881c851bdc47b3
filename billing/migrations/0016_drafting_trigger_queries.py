"""Drafting writes fewer trigger queries: the bill-line guards read the freeze and the period
lock in one pass over the lines' bills (billing/line_guards.py), and the measure facts' bill
trigger skips an update with no counted bill before or after, such as a re-run of generation
repricing its drafts (billing/collections/facts.py). Both functions are replaced in place."""

from django.db import migrations

from billing.collections.facts import BILL_FUNCTION
from billing.line_guards import GUARD_FUNCTIONS

# The functions as migrations 0010 and 0013 installed them.
_PREVIOUS_GUARDS = """
CREATE OR REPLACE FUNCTION billing_billline_insert_guard() RETURNS trigger AS $$
DECLARE
  hit_id bigint;
  hit_period date;
BEGIN
  EXECUTE 'SELECT b.id FROM inserted_lines l JOIN billing_bill b ON b.id = l.bill_id
            WHERE b.status <> ''draft'' LIMIT 1' INTO hit_id;
  IF hit_id IS NOT NULL THEN
    RAISE EXCEPTION 'lines of issued bill % are frozen', hit_id USING ERRCODE = '23514';
  END IF;
  EXECUTE 'SELECT b.period FROM inserted_lines l JOIN billing_bill b ON b.id = l.bill_id
            JOIN billing_period p ON p.month = b.period AND p.status = ''closed''
            WHERE b.kind = ''bill'' LIMIT 1' INTO hit_period;
  IF hit_period IS NOT NULL THEN
    RAISE EXCEPTION '% 已关账：该月账单的明细不能修改', to_char(hit_period, 'YYYY-MM')
      USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_billline_delete_guard() RETURNS trigger AS $$
DECLARE
  hit_id bigint;
  hit_period date;
BEGIN
  EXECUTE 'SELECT b.id FROM deleted_lines l JOIN billing_bill b ON b.id = l.bill_id
            WHERE b.status <> ''draft'' LIMIT 1' INTO hit_id;
  IF hit_id IS NOT NULL THEN
    RAISE EXCEPTION 'lines of issued bill % are frozen', hit_id USING ERRCODE = '23514';
  END IF;
  EXECUTE 'SELECT b.period FROM deleted_lines l JOIN billing_bill b ON b.id = l.bill_id
            JOIN billing_period p ON p.month = b.period AND p.status = ''closed''
            WHERE b.kind = ''bill'' LIMIT 1' INTO hit_period;
  IF hit_period IS NOT NULL THEN
    RAISE EXCEPTION '% 已关账：该月账单的明细不能修改', to_char(hit_period, 'YYYY-MM')
      USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""  # noqa: S608 (constants, no user input)

_PREVIOUS_BILL_FACTS = """
CREATE OR REPLACE FUNCTION billing_bill_measure_facts() RETURNS trigger AS $$
DECLARE
  ids bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE $q$
INSERT INTO billing_billmeasurefact (bill_id, customer_id, sales_owner_id, customer_deleted, due_date, start, total, paid_before, collected)
WITH keys AS (
  SELECT id, sales_owner_id, is_deleted FROM customers_customer
   WHERE id IN (SELECT customer_id FROM new_bills b WHERE b.kind = 'bill' AND b.status IN ('issued', 'partially_paid', 'paid') AND b.due_date IS NOT NULL) ORDER BY id FOR SHARE
)
SELECT b.id, b.customer_id, k.sales_owner_id, k.is_deleted, b.due_date,
       ((b.due_date + 1)::timestamp AT TIME ZONE billing_measure_zone()), b.total, 0, 0
  FROM new_bills b JOIN keys k ON k.id = b.customer_id WHERE b.kind = 'bill' AND b.status IN ('issued', 'partially_paid', 'paid') AND b.due_date IS NOT NULL$q$;
  ELSIF TG_OP = 'UPDATE' THEN
    EXECUTE $q$
SELECT array_agg(n.id) FROM new_bills n JOIN old_bills o ON o.id = n.id
 WHERE (n.kind = 'bill' AND n.status IN ('issued', 'partially_paid', 'paid'), n.customer_id, n.due_date, n.total)
       IS DISTINCT FROM (o.kind = 'bill' AND o.status IN ('issued', 'partially_paid', 'paid'), o.customer_id, o.due_date,
                         o.total)$q$ INTO ids;
    IF ids IS NOT NULL THEN
      EXECUTE $q$DELETE FROM billing_billmeasurefact WHERE bill_id = ANY($1)$q$ USING ids;
      EXECUTE $q$INSERT INTO billing_billmeasurefact (bill_id, customer_id, sales_owner_id, customer_deleted, due_date, start, total, paid_before, collected) 
    WITH b AS (SELECT * FROM billing_bill b WHERE b.kind = 'bill' AND b.status IN ('issued', 'partially_paid', 'paid') AND b.due_date IS NOT NULL AND b.id = ANY($1)),
    keys AS (
      SELECT id, sales_owner_id, is_deleted FROM customers_customer
       WHERE id IN (SELECT customer_id FROM b) ORDER BY id FOR SHARE
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
                      AND a.created_at < s.start + interval '720 hours'
                  ) AS collected
             FROM billing_paymentallocation a
            WHERE a.bill_id = b.id AND a.undone_at IS NULL
     ) x ON true$q$ USING ids;
    END IF;
  ELSE
    EXECUTE $q$DELETE FROM billing_billmeasurefact WHERE bill_id IN (SELECT id FROM old_bills)$q$;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

"""  # noqa: S608 (constants, no user input)


class Migration(migrations.Migration):
    dependencies = [("billing", "0015_usage_day_totals")]

    operations = [
        migrations.RunSQL(GUARD_FUNCTIONS, _PREVIOUS_GUARDS),
        migrations.RunSQL(BILL_FUNCTION, _PREVIOUS_BILL_FACTS),
    ]
