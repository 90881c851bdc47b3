"""The usage index by customer, series and day carries shots and floors: churn warnings and
the shots trend of a salesperson's customers are read from the index alone; and each
customer's payments are summed from an index of their amounts (the payment summary)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0010_guards_per_statement_planned_per_call"),
        ("customers", "0005_customer_groups"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="usagerecord",
            name="billing_usa_custome_549b23_idx",
        ),
        migrations.AddIndex(
            model_name="usagerecord",
            index=models.Index(
                fields=["customer", "series", "shot_date"],
                include=("shots", "floors"),
                name="billing_usage_customer_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                fields=["customer"],
                include=("amount", "allocated", "received_on"),
                name="billing_payment_customer_idx",
            ),
        ),
    ]
