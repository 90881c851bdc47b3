"""Bill-line freeze and period lock checked once per statement for inserts and deletes
(billing/line_guards.py): generation writes 200,000 lines without 800,000 row lookups."""

from django.db import migrations

from billing.line_guards import POSTGRES_INSTALL, POSTGRES_UNINSTALL


class Migration(migrations.Migration):
    dependencies = [("billing", "0007_month_close")]

    operations = [migrations.RunSQL(POSTGRES_INSTALL, POSTGRES_UNINSTALL)]
