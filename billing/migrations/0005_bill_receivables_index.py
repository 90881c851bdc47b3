"""Covering index for the receivables reports (PostgreSQL only).

The reports read live bills by customer and month and need only status, due date,
total and amount paid: with INCLUDE they are answered from the index alone. SQLite
has no INCLUDE, so there the migration does nothing. The index is declared in SQL
rather than in Bill.Meta so the model stays portable; the freeze triggers of 0002
are not affected (an index changes no row).
"""

from django.db import migrations

INDEX = "billing_bill_receivables_idx"

CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON billing_bill (customer_id, period) "
    "INCLUDE (status, due_date, total, amount_paid) WHERE kind = 'bill'"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_merge"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
