"""Money totals kept on write (billing/money_totals.py): the sums reports read, per reporting
key, kept exact by triggers on bills, payments and customers, filled from the existing rows."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from billing.money_totals import POSTGRES_INSTALL, POSTGRES_UNINSTALL


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0011_report_covering_indexes"),
        ("customers", "0005_customer_groups"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerPaymentTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("payments", models.IntegerField()),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                ("allocated", models.DecimalField(decimal_places=2, max_digits=14)),
                (
                    "customer",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="customers.customer",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="BillTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.CharField(blank=True, max_length=1)),
                ("period", models.DateField()),
                ("status", models.CharField(max_length=16)),
                ("due_date", models.DateField(null=True)),
                ("bills", models.IntegerField()),
                ("open_bills", models.IntegerField()),
                ("total", models.DecimalField(decimal_places=2, max_digits=14)),
                ("amount_paid", models.DecimalField(decimal_places=2, max_digits=14)),
                (
                    "group",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="customers.customergroup",
                    ),
                ),
                (
                    "sales_owner",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("sales_owner", "level", "group", "period", "status", "due_date"),
                        name="billing_billtotal_key",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="PaymentTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.CharField(blank=True, max_length=1)),
                ("month", models.DateField()),
                ("payments", models.IntegerField()),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                ("allocated", models.DecimalField(decimal_places=2, max_digits=14)),
                (
                    "sales_owner",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("sales_owner", "level", "month"),
                        name="billing_paymenttotal_key",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="customerpaymenttotal",
            index=models.Index(fields=["-amount", "customer"], name="billing_custpay_rank_idx"),
        ),
        migrations.RunSQL(POSTGRES_INSTALL, POSTGRES_UNINSTALL),
    ]
