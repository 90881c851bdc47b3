from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_postgres_search_indexes"),
        ("customers", "0003_seed_cooperation_mapping"),
    ]

    operations = []
