from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_bill_freeze_triggers"),
        ("billing", "0003_seed_device_series"),
    ]

    operations = []
