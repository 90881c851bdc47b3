"""Money totals kept on write: the sums reports read, maintained by the database itself.

At 100,000 customers x 12 months the receivables sum 1.1 million bills and the payment
summary a million payments on every first read after a write (300-400 ms of SQL each). The
tables of billing.models BillTotal, PaymentTotal and CustomerPaymentTotal hold the same sums
per reporting key (a few thousand rows; one row per paying customer), and reports sum those.

They are kept exact by statement-level triggers with transition tables, in the transaction
and statement of every write, whatever the path (ORM saves, bulk updates, COPY, raw SQL,
reversal, allocation and its undo, customer reassignment, soft delete):

- billing_bill: a bill counts while it is kind `bill` and issued, partially paid or paid;
  each statement subtracts its old rows and adds its new ones, per key;
- billing_payment: likewise for payments (amount and allocated);
- customers_customer: a change of a customer's sales owner, grade or group moves its bills'
  and payments' sums from the old key to the new one.

UsageDayTotal sums the usage records per customer owner, whether the customer is deleted, and
day (the cockpit's shots trend): a trigger on usage records adds each statement's rows, and the
customer trigger of this table moves a customer's usage when its owner changes or it is
deleted or restored.

CustomerBilledTotal sums each customer's bills over a window of months, the cockpit's twelve
(its top customers): the window is fixed in the SQL function billing_billed_window(), the
bill trigger counts the bills whose month falls in it, and `billed_window_set` moves it to
the next twelve months (a recompute; the beat job that keeps the cockpit warm does it when the
month turns). Readers use the rows only while the window is theirs.

Deltas that net to zero touch no row (an update that changes nothing a total holds takes no
lock on it), and a row left with no bill or payment is deleted. The bill and payment
triggers read the customer's key FOR SHARE, so a concurrent reassignment of that customer
waits for them (or they for it) and every delta lands under the key the customer ends with.
The statements are planned at each call (EXECUTE), like billing/line_guards.py: a plan cached
on a one-row statement would join 100,000 issued bills by nested loops.

`rebuild()` (management command rebuild_money_totals) recomputes every row from the bills
and payments; tests compare the kept totals with that recompute after mixed operations.
"""
# ruff: noqa: S608 - the SQL is built from this module's constants only, never from input

from __future__ import annotations

from datetime import date

from django.db import connection, transaction

BILLED = "('issued', 'partially_paid', 'paid')"

# --- bills -----------------------------------------------------------------------------


def _bill_rows(table: str, sign: str) -> str:
    return f"""
        SELECT customer_id, period, status, due_date, {sign}1 AS n,
               {sign}(total > amount_paid)::int AS o, {sign}total AS t, {sign}amount_paid AS p
          FROM {table} WHERE kind = 'bill' AND status IN {BILLED}"""


def _bill_upsert(grouped: str) -> str:
    """Add the grouped deltas (owner, level, group, period, status, due date, n, o, t, p) to
    billing_billtotal; the statement returns the ids of rows left with no bill."""
    return f"""
    WITH grouped AS ({grouped}),
    changed AS (
        INSERT INTO billing_billtotal AS s
            (sales_owner_id, level, group_id, period, status, due_date,
             bills, open_bills, total, amount_paid)
        SELECT * FROM grouped ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (sales_owner_id, level, group_id, period, status, due_date) DO UPDATE SET
            bills = s.bills + EXCLUDED.bills,
            open_bills = s.open_bills + EXCLUDED.open_bills,
            total = s.total + EXCLUDED.total,
            amount_paid = s.amount_paid + EXCLUDED.amount_paid
        RETURNING s.id, s.bills
    )
    SELECT array_agg(id) FROM changed WHERE bills = 0"""


def _bill_delta(rows: str) -> str:
    # Summed per customer first: rows that net to nothing (an update of other columns) drop
    # out before any customer is locked.
    return _bill_upsert(f"""
        WITH delta AS (
            SELECT customer_id, period, status, due_date,
                   sum(n) AS n, sum(o) AS o, sum(t) AS t, sum(p) AS p
              FROM ({rows}) AS r
             GROUP BY 1, 2, 3, 4
            HAVING sum(n) <> 0 OR sum(o) <> 0 OR sum(t) <> 0 OR sum(p) <> 0
        ),
        keys AS (
            SELECT id, sales_owner_id, level, group_id FROM customers_customer
             WHERE id IN (SELECT customer_id FROM delta) ORDER BY id FOR SHARE
        )
        SELECT k.sales_owner_id, k.level, k.group_id, d.period, d.status, d.due_date,
               sum(d.n), sum(d.o), sum(d.t), sum(d.p)
          FROM delta d JOIN keys k ON k.id = d.customer_id
         GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(d.n) <> 0 OR sum(d.o) <> 0 OR sum(d.t) <> 0 OR sum(d.p) <> 0""")


BILL_INSERT_SQL = _bill_delta(_bill_rows("new_bills", ""))
BILL_DELETE_SQL = _bill_delta(_bill_rows("old_bills", "-"))
BILL_UPDATE_SQL = _bill_delta(
    _bill_rows("new_bills", "") + " UNION ALL " + _bill_rows("old_bills", "-")
)


def _billed_rows(table: str, sign: str) -> str:
    return f"""
        SELECT customer_id, {sign}1 AS n, {sign}total AS t, {sign}amount_paid AS p
          FROM {table}
         WHERE kind = 'bill' AND status IN {BILLED} AND period <@ billing_billed_window()"""


def _billed_delta(rows: str) -> str:
    """Add the rows' deltas to the customers' totals over the window; the statement returns
    the ids of rows left with no bill."""
    return f"""
    WITH grouped AS (
        SELECT customer_id, sum(n), sum(t), sum(p) FROM ({rows}) AS r GROUP BY 1
        HAVING sum(n) <> 0 OR sum(t) <> 0 OR sum(p) <> 0
    ),
    changed AS (
        INSERT INTO billing_customerbilledtotal AS s (customer_id, bills, revenue, received)
        SELECT * FROM grouped ORDER BY 1
        ON CONFLICT (customer_id) DO UPDATE SET
            bills = s.bills + EXCLUDED.bills,
            revenue = s.revenue + EXCLUDED.revenue,
            received = s.received + EXCLUDED.received
        RETURNING s.id, s.bills
    )
    SELECT array_agg(id) FROM changed WHERE bills = 0"""


BILLED_INSERT_SQL = _billed_delta(_billed_rows("new_bills", ""))
BILLED_DELETE_SQL = _billed_delta(_billed_rows("old_bills", "-"))
BILLED_UPDATE_SQL = _billed_delta(
    _billed_rows("new_bills", "") + " UNION ALL " + _billed_rows("old_bills", "-")
)


def billed_window_function(first: date, last: date) -> str:
    """The months (first days) the customers' billed totals count, both included."""
    return f"""
CREATE OR REPLACE FUNCTION billing_billed_window() RETURNS daterange
  STABLE PARALLEL SAFE LANGUAGE sql AS $$ SELECT daterange('{first:%Y-%m-%d}', '{last:%Y-%m-%d}', '[]') $$;
"""


# --- payments --------------------------------------------------------------------------


def _payment_rows(table: str, sign: str) -> str:
    return f"""
        SELECT customer_id, date_trunc('month', received_on)::date AS month, {sign}1 AS n,
               {sign}amount AS a, {sign}allocated AS l
          FROM {table}"""


def _payment_month_upsert(grouped: str) -> str:
    return f"""
    WITH grouped AS ({grouped}),
    changed AS (
        INSERT INTO billing_paymenttotal AS s
            (sales_owner_id, level, month, payments, amount, allocated)
        SELECT * FROM grouped ORDER BY 1, 2, 3
        ON CONFLICT (sales_owner_id, level, month) DO UPDATE SET
            payments = s.payments + EXCLUDED.payments,
            amount = s.amount + EXCLUDED.amount,
            allocated = s.allocated + EXCLUDED.allocated
        RETURNING s.id, s.payments
    )
    SELECT array_agg(id) FROM changed WHERE payments = 0"""


def _payment_deltas(rows: str) -> tuple[str, str]:
    """The statements adding the rows' deltas to the per-month and the per-customer totals."""
    by_month = _payment_month_upsert(f"""
        WITH delta AS (
            SELECT customer_id, month, sum(n) AS n, sum(a) AS a, sum(l) AS l
              FROM ({rows}) AS r
             GROUP BY 1, 2
            HAVING sum(n) <> 0 OR sum(a) <> 0 OR sum(l) <> 0
        ),
        keys AS (
            SELECT id, sales_owner_id, level FROM customers_customer
             WHERE id IN (SELECT customer_id FROM delta) ORDER BY id FOR SHARE
        )
        SELECT k.sales_owner_id, k.level, d.month, sum(d.n), sum(d.a), sum(d.l)
          FROM delta d JOIN keys k ON k.id = d.customer_id
         GROUP BY 1, 2, 3
        HAVING sum(d.n) <> 0 OR sum(d.a) <> 0 OR sum(d.l) <> 0""")
    by_customer = f"""
    WITH delta AS ({rows}),
    grouped AS (
        SELECT customer_id, sum(n), sum(a), sum(l) FROM delta GROUP BY 1
        HAVING sum(n) <> 0 OR sum(a) <> 0 OR sum(l) <> 0
    ),
    changed AS (
        INSERT INTO billing_customerpaymenttotal AS s (customer_id, payments, amount, allocated)
        SELECT * FROM grouped ORDER BY 1
        ON CONFLICT (customer_id) DO UPDATE SET
            payments = s.payments + EXCLUDED.payments,
            amount = s.amount + EXCLUDED.amount,
            allocated = s.allocated + EXCLUDED.allocated
        RETURNING s.id, s.payments
    )
    SELECT array_agg(id) FROM changed WHERE payments = 0"""
    return by_month, by_customer


PAYMENT_INSERT_SQL = _payment_deltas(_payment_rows("new_payments", ""))
PAYMENT_DELETE_SQL = _payment_deltas(_payment_rows("old_payments", "-"))
PAYMENT_UPDATE_SQL = _payment_deltas(
    _payment_rows("new_payments", "") + " UNION ALL " + _payment_rows("old_payments", "-")
)

# --- customers: a new owner, grade or group moves the sums ---------------------------------

_MOVED = """
    SELECT n.id, o.sales_owner_id AS old_owner, o.level AS old_level, o.group_id AS old_group,
           n.sales_owner_id AS new_owner, n.level AS new_level, n.group_id AS new_group
      FROM new_customers n JOIN old_customers o ON o.id = n.id
     WHERE (o.sales_owner_id, o.level, o.group_id)
           IS DISTINCT FROM (n.sales_owner_id, n.level, n.group_id)"""
_SIDES = """
    CROSS JOIN LATERAL (VALUES (m.old_owner, m.old_level, m.old_group, -1),
                               (m.new_owner, m.new_level, m.new_group, 1)) AS k(owner, level, grp, sign)"""

CUSTOMER_BILLS_SQL = _bill_upsert(f"""
    WITH moved AS ({_MOVED})
    SELECT k.owner, k.level, k.grp, b.period, b.status, b.due_date, sum(k.sign),
           sum(k.sign * (b.total > b.amount_paid)::int), sum(k.sign * b.total),
           sum(k.sign * b.amount_paid)
      FROM moved m JOIN billing_bill b ON b.customer_id = m.id {_SIDES}
     WHERE b.kind = 'bill' AND b.status IN {BILLED}
     GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(k.sign) <> 0 OR sum(k.sign * (b.total > b.amount_paid)::int) <> 0
        OR sum(k.sign * b.total) <> 0 OR sum(k.sign * b.amount_paid) <> 0""")
CUSTOMER_PAYMENTS_SQL = _payment_month_upsert(f"""
    WITH moved AS ({_MOVED})
    SELECT k.owner, k.level, date_trunc('month', p.received_on)::date, sum(k.sign),
           sum(k.sign * p.amount), sum(k.sign * p.allocated)
      FROM moved m JOIN billing_payment p ON p.customer_id = m.id {_SIDES}
     GROUP BY 1, 2, 3
    HAVING sum(k.sign) <> 0 OR sum(k.sign * p.amount) <> 0 OR sum(k.sign * p.allocated) <> 0""")


def _function(name: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
DECLARE
  empty bigint[];
BEGIN
{body}
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


def _run(sql: str, table: str, count: str) -> str:
    """Run one upsert and delete the rows it left empty (no bill or payment: every sum of
    such a row is zero, the totals being exact)."""
    head, _, tail = sql.rpartition("SELECT array_agg(id) FROM changed")
    return f"""
    {head}SELECT array_agg(id) INTO empty FROM changed{tail};
    IF empty IS NOT NULL THEN
      DELETE FROM {table} WHERE id = ANY(empty) AND {count} = 0;
    END IF;"""


def _bills(sql: str) -> str:
    return _run(sql, "billing_billtotal", "bills")


def _payments(sqls: tuple[str, str]) -> str:
    return _run(sqls[0], "billing_paymenttotal", "payments") + _run(
        sqls[1], "billing_customerpaymenttotal", "payments"
    )


def _by_op(insert: str, update: str, delete: str) -> str:
    return f"""
  IF TG_OP = 'INSERT' THEN {insert}
  ELSIF TG_OP = 'UPDATE' THEN {update}
  ELSE {delete}
  END IF;"""


FUNCTIONS = (
    _function(
        "billing_bill_totals",
        _by_op(_bills(BILL_INSERT_SQL), _bills(BILL_UPDATE_SQL), _bills(BILL_DELETE_SQL)),
    )
    + _function(
        "billing_payment_totals",
        _by_op(
            _payments(PAYMENT_INSERT_SQL),
            _payments(PAYMENT_UPDATE_SQL),
            _payments(PAYMENT_DELETE_SQL),
        ),
    )
    + _function(
        "billing_customer_totals",
        _bills(CUSTOMER_BILLS_SQL)
        + _run(CUSTOMER_PAYMENTS_SQL, "billing_paymenttotal", "payments"),
    )
)


def statement_triggers(table: str, function: str, old: str, new: str, name: str = "totals") -> str:
    """The AFTER INSERT, UPDATE and DELETE statement triggers of `table` running `function` with
    its transition tables (a trigger with transition tables serves one event: three)."""
    return f"""
CREATE TRIGGER {table}_{name}_insert AFTER INSERT ON {table}
  REFERENCING NEW TABLE AS {new} FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_{name}_update AFTER UPDATE ON {table}
  REFERENCING OLD TABLE AS {old} NEW TABLE AS {new}
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_{name}_delete AFTER DELETE ON {table}
  REFERENCING OLD TABLE AS {old} FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


def customer_update_trigger(name: str, function: str) -> str:
    """The AFTER UPDATE statement trigger of customers_customer running `function` with the old
    and new rows (a customer's new owner, grade, group or deletion moves what is kept)."""
    return f"""
CREATE TRIGGER customers_customer_{name} AFTER UPDATE ON customers_customer
  REFERENCING OLD TABLE AS old_customers NEW TABLE AS new_customers
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


BILLED_REBUILD_SQL = f"""
DELETE FROM billing_customerbilledtotal;
INSERT INTO billing_customerbilledtotal (customer_id, bills, revenue, received)
SELECT customer_id, count(*), sum(total), sum(amount_paid) FROM billing_bill
 WHERE kind = 'bill' AND status IN {BILLED} AND period <@ billing_billed_window()
 GROUP BY 1;
"""

REBUILD_SQL = f"""
LOCK TABLE billing_bill, billing_payment, customers_customer IN SHARE MODE;
DELETE FROM billing_billtotal;
INSERT INTO billing_billtotal (sales_owner_id, level, group_id, period, status, due_date,
                               bills, open_bills, total, amount_paid)
SELECT c.sales_owner_id, c.level, c.group_id, b.period, b.status, b.due_date, count(*),
       count(*) FILTER (WHERE b.total > b.amount_paid), sum(b.total), sum(b.amount_paid)
  FROM billing_bill b JOIN customers_customer c ON c.id = b.customer_id
 WHERE b.kind = 'bill' AND b.status IN {BILLED}
 GROUP BY 1, 2, 3, 4, 5, 6;
DELETE FROM billing_paymenttotal;
INSERT INTO billing_paymenttotal (sales_owner_id, level, month, payments, amount, allocated)
SELECT c.sales_owner_id, c.level, date_trunc('month', p.received_on)::date, count(*),
       sum(p.amount), sum(p.allocated)
  FROM billing_payment p JOIN customers_customer c ON c.id = p.customer_id
 GROUP BY 1, 2, 3;
DELETE FROM billing_customerpaymenttotal;
INSERT INTO billing_customerpaymenttotal (customer_id, payments, amount, allocated)
SELECT customer_id, count(*), sum(amount), sum(allocated) FROM billing_payment GROUP BY 1;
"""

POSTGRES_INSTALL = (
    FUNCTIONS
    + statement_triggers("billing_bill", "billing_bill_totals", "old_bills", "new_bills")
    + statement_triggers(
        "billing_payment", "billing_payment_totals", "old_payments", "new_payments"
    )
    + customer_update_trigger("totals", "billing_customer_totals")
    + REBUILD_SQL
)

POSTGRES_UNINSTALL = """
DROP TRIGGER IF EXISTS customers_customer_totals ON customers_customer;
DROP TRIGGER IF EXISTS billing_payment_totals_insert ON billing_payment;
DROP TRIGGER IF EXISTS billing_payment_totals_update ON billing_payment;
DROP TRIGGER IF EXISTS billing_payment_totals_delete ON billing_payment;
DROP TRIGGER IF EXISTS billing_bill_totals_insert ON billing_bill;
DROP TRIGGER IF EXISTS billing_bill_totals_update ON billing_bill;
DROP TRIGGER IF EXISTS billing_bill_totals_delete ON billing_bill;
DROP FUNCTION IF EXISTS billing_customer_totals();
DROP FUNCTION IF EXISTS billing_payment_totals();
DROP FUNCTION IF EXISTS billing_bill_totals();
"""


# The customers' billed totals over the window: their own trigger function (installed by
# migration 0014, after the totals above).
BILLED_FUNCTION = _function(
    "billing_bill_billed_totals",
    _by_op(
        _run(BILLED_INSERT_SQL, "billing_customerbilledtotal", "bills"),
        _run(BILLED_UPDATE_SQL, "billing_customerbilledtotal", "bills"),
        _run(BILLED_DELETE_SQL, "billing_customerbilledtotal", "bills"),
    ),
)


def billed_install_sql(first: date, last: date) -> str:
    return (
        billed_window_function(first, last)
        + BILLED_FUNCTION
        + statement_triggers(
            "billing_bill", "billing_bill_billed_totals", "old_bills", "new_bills", "billed"
        )
        + BILLED_REBUILD_SQL
    )


BILLED_UNINSTALL_SQL = """
DROP TRIGGER IF EXISTS billing_bill_billed_insert ON billing_bill;
DROP TRIGGER IF EXISTS billing_bill_billed_update ON billing_bill;
DROP TRIGGER IF EXISTS billing_bill_billed_delete ON billing_bill;
DROP FUNCTION IF EXISTS billing_bill_billed_totals();
DROP FUNCTION IF EXISTS billing_billed_window();
"""


# --- usage per owner and day -----------------------------------------------------------


def _usage_upsert(grouped: str) -> str:
    return f"""
    WITH grouped AS ({grouped}),
    changed AS (
        INSERT INTO billing_usagedaytotal AS s
            (sales_owner_id, deleted, day, records, shots, floor_shots)
        SELECT * FROM grouped ORDER BY 1, 2, 3
        ON CONFLICT (sales_owner_id, deleted, day) DO UPDATE SET
            records = s.records + EXCLUDED.records,
            shots = s.shots + EXCLUDED.shots,
            floor_shots = s.floor_shots + EXCLUDED.floor_shots
        RETURNING s.id, s.records
    )
    SELECT array_agg(id) FROM changed WHERE records = 0"""


def _usage_rows(table: str, sign: str) -> str:
    return f"""
        SELECT customer_id, shot_date, {sign}1 AS n, {sign}shots::bigint AS s,
               {sign}(shots::bigint * floors) AS f
          FROM {table}"""


def _usage_delta(rows: str) -> str:
    return _usage_upsert(f"""
        WITH delta AS (
            SELECT customer_id, shot_date, sum(n) AS n, sum(s) AS s, sum(f) AS f
              FROM ({rows}) AS r
             GROUP BY 1, 2
            HAVING sum(n) <> 0 OR sum(s) <> 0 OR sum(f) <> 0
        ),
        keys AS (
            SELECT id, sales_owner_id, is_deleted FROM customers_customer
             WHERE id IN (SELECT customer_id FROM delta) ORDER BY id FOR SHARE
        )
        SELECT k.sales_owner_id, k.is_deleted, d.shot_date, sum(d.n), sum(d.s), sum(d.f)
          FROM delta d JOIN keys k ON k.id = d.customer_id
         GROUP BY 1, 2, 3
        HAVING sum(d.n) <> 0 OR sum(d.s) <> 0 OR sum(d.f) <> 0""")


USAGE_INSERT_SQL = _usage_delta(_usage_rows("new_usage", ""))
USAGE_DELETE_SQL = _usage_delta(_usage_rows("old_usage", "-"))
USAGE_UPDATE_SQL = _usage_delta(
    _usage_rows("new_usage", "") + " UNION ALL " + _usage_rows("old_usage", "-")
)

# A customer's new owner, or its deletion or restoring, moves its usage to the new key.
CUSTOMER_USAGE_SQL = _usage_upsert("""
    WITH moved AS (
        SELECT n.id, o.sales_owner_id AS old_owner, o.is_deleted AS old_deleted,
               n.sales_owner_id AS new_owner, n.is_deleted AS new_deleted
          FROM new_customers n JOIN old_customers o ON o.id = n.id
         WHERE (o.sales_owner_id, o.is_deleted) IS DISTINCT FROM (n.sales_owner_id, n.is_deleted)
    )
    SELECT k.owner, k.deleted, u.shot_date, sum(k.sign), sum(k.sign * u.shots::bigint),
           sum(k.sign * u.shots::bigint * u.floors)
      FROM moved m JOIN billing_usagerecord u ON u.customer_id = m.id
     CROSS JOIN LATERAL (VALUES (m.old_owner, m.old_deleted, -1),
                                (m.new_owner, m.new_deleted, 1)) AS k(owner, deleted, sign)
     GROUP BY 1, 2, 3
    HAVING sum(k.sign) <> 0 OR sum(k.sign * u.shots::bigint) <> 0
        OR sum(k.sign * u.shots::bigint * u.floors) <> 0""")

USAGE_REBUILD_SQL = """
DELETE FROM billing_usagedaytotal;
INSERT INTO billing_usagedaytotal (sales_owner_id, deleted, day, records, shots, floor_shots)
SELECT c.sales_owner_id, c.is_deleted, u.shot_date, count(*), sum(u.shots),
       sum(u.shots::bigint * u.floors)
  FROM billing_usagerecord u JOIN customers_customer c ON c.id = u.customer_id
 GROUP BY 1, 2, 3;
"""

# Installed by migration 0015, after the totals above.
USAGE_INSTALL_SQL = (
    _function(
        "billing_usage_totals",
        _by_op(
            _run(USAGE_INSERT_SQL, "billing_usagedaytotal", "records"),
            _run(USAGE_UPDATE_SQL, "billing_usagedaytotal", "records"),
            _run(USAGE_DELETE_SQL, "billing_usagedaytotal", "records"),
        ),
    )
    + _function(
        "billing_customer_usage_totals",
        _run(CUSTOMER_USAGE_SQL, "billing_usagedaytotal", "records"),
    )
    + statement_triggers("billing_usagerecord", "billing_usage_totals", "old_usage", "new_usage")
    + customer_update_trigger("usage_totals", "billing_customer_usage_totals")
    + USAGE_REBUILD_SQL
)

USAGE_UNINSTALL_SQL = """
DROP TRIGGER IF EXISTS customers_customer_usage_totals ON customers_customer;
DROP TRIGGER IF EXISTS billing_usagerecord_totals_insert ON billing_usagerecord;
DROP TRIGGER IF EXISTS billing_usagerecord_totals_update ON billing_usagerecord;
DROP TRIGGER IF EXISTS billing_usagerecord_totals_delete ON billing_usagerecord;
DROP FUNCTION IF EXISTS billing_customer_usage_totals();
DROP FUNCTION IF EXISTS billing_usage_totals();
"""


def billed_window() -> tuple[date, date]:
    """The months the customers' billed totals count now (first and last, both included)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT lower(w), upper(w) - 1 FROM billing_billed_window() AS w")
        return cursor.fetchone()


def billed_window_set(first: date, last: date) -> bool:
    """Count the customers' billed totals over these months from now on (a recompute; bill
    writers wait meanwhile); False when they already do. Two callers at once (two beat runs)
    take turns on the totals' lock, and the second finds the window moved."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "LOCK TABLE billing_customerbilledtotal IN EXCLUSIVE MODE;"
            "LOCK TABLE billing_bill IN SHARE MODE;"
        )
        if billed_window() == (first, last):
            return False
        cursor.execute(billed_window_function(first, last) + BILLED_REBUILD_SQL)
    return True


def rebuild() -> None:
    """Recompute every total from the bills, payments and usage (writers wait meanwhile)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "LOCK TABLE billing_usagerecord IN SHARE MODE;"
            + REBUILD_SQL
            + BILLED_REBUILD_SQL
            + USAGE_REBUILD_SQL
        )
