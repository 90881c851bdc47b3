"""Database triggers that freeze issued bills, so no admin, shell or queryset update() can edit them.

The service layer already refuses to touch an issued bill; the triggers are the
second lock for every path that bypasses services. Only the lifecycle columns
(status, amount_paid, issued_*, updated_at, reason, anomalies) may change once a
bill has left draft, and a bill never returns to draft. Lines of a non-draft bill
cannot be inserted, changed or deleted. They raise SQLSTATE 23514, which Django
surfaces as IntegrityError.
"""

FROZEN_COLUMNS = ("number", "kind", "customer_id", "period", "total", "reverses_id", "due_date")

_PG_CHANGED = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN_COLUMNS)

POSTGRES_INSTALL = f"""
CREATE OR REPLACE FUNCTION billing_bill_freeze() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.status <> 'draft' THEN
      RAISE EXCEPTION 'bill % is issued and cannot be deleted', OLD.number
        USING ERRCODE = '23514';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status <> 'draft' AND (NEW.status = 'draft' OR {_PG_CHANGED}) THEN
    RAISE EXCEPTION 'bill % is issued and frozen: only status and amount_paid may change', OLD.number
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_billline_freeze() RETURNS trigger AS $$
DECLARE
  bill_status varchar;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT status INTO bill_status FROM billing_bill WHERE id = OLD.bill_id;
    IF bill_status IS NOT NULL AND bill_status <> 'draft' THEN
      RAISE EXCEPTION 'lines of issued bill % are frozen', OLD.bill_id USING ERRCODE = '23514';
    END IF;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    SELECT status INTO bill_status FROM billing_bill WHERE id = NEW.bill_id;
    IF bill_status IS NOT NULL AND bill_status <> 'draft' THEN
      RAISE EXCEPTION 'lines of issued bill % are frozen', NEW.bill_id USING ERRCODE = '23514';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS billing_bill_freeze ON billing_bill;
CREATE TRIGGER billing_bill_freeze BEFORE UPDATE OR DELETE ON billing_bill
  FOR EACH ROW EXECUTE FUNCTION billing_bill_freeze();
DROP TRIGGER IF EXISTS billing_billline_freeze ON billing_billline;
CREATE TRIGGER billing_billline_freeze BEFORE INSERT OR UPDATE OR DELETE ON billing_billline
  FOR EACH ROW EXECUTE FUNCTION billing_billline_freeze();
"""  # noqa: S608 (column names are constants above)

POSTGRES_UNINSTALL = """
DROP TRIGGER IF EXISTS billing_bill_freeze ON billing_bill;
DROP TRIGGER IF EXISTS billing_billline_freeze ON billing_billline;
DROP FUNCTION IF EXISTS billing_bill_freeze();
DROP FUNCTION IF EXISTS billing_billline_freeze();
"""
