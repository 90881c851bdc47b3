"""The money data version (billing/data_version.py): statement-level triggers that move a
sequence on every write to what reports sum, so report aggregates can be cached safely; and the open bills by due date (overdue lists)."""

from django.db import migrations, models

from billing.data_version import POSTGRES_INSTALL, POSTGRES_UNINSTALL


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_line_guards_per_statement"),
        ("customers", "0005_customer_groups"),
        ("accounts", "0005_notification_kinds"),
    ]

    operations = [
        migrations.RunSQL(POSTGRES_INSTALL, POSTGRES_UNINSTALL),
        migrations.AddIndex(
            model_name="bill",
            index=models.Index(
                condition=models.Q(("kind", "bill"), ("status__in", ["issued", "partially_paid"])),
                fields=["due_date", "customer"],
                include=["total", "amount_paid"],
                name="billing_bill_open_due_idx",
            ),
        ),
    ]
