"""A customer with an open balance or unallocated credit cannot be deleted, by any path.

customers cannot import billing, so the customer service cannot ask about bills;
the database can. Soft-deleting (is_deleted false -> true) raises SQLSTATE 23514
while an issued bill is unpaid or a payment is not fully allocated;
customers.services.customer_soft_delete turns that into a message for the clerk.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION customers_customer_keep_money() RETURNS trigger AS $$
BEGIN
  IF NEW.is_deleted AND NOT OLD.is_deleted AND (
    EXISTS (
      SELECT 1 FROM billing_bill
      WHERE customer_id = NEW.id AND kind = 'bill'
        AND status IN ('issued', 'partially_paid') AND total <> amount_paid
    )
    OR EXISTS (
      SELECT 1 FROM billing_payment WHERE customer_id = NEW.id AND amount <> allocated
    )
  ) THEN
    RAISE EXCEPTION 'customer % has an open balance or unallocated credit', NEW.company_id
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS customers_customer_keep_money ON customers_customer;
CREATE TRIGGER customers_customer_keep_money
  BEFORE UPDATE OF is_deleted ON customers_customer
  FOR EACH ROW EXECUTE FUNCTION customers_customer_keep_money();
"""

REMOVE = """
DROP TRIGGER IF EXISTS customers_customer_keep_money ON customers_customer;
DROP FUNCTION IF EXISTS customers_customer_keep_money();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_operations_schedules"), ("customers", "0004_archive_depth")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
