"""PostgreSQL-only indexes for the customer list at 100k rows.

- `name COLLATE "zh-x-icu"`: the list's default pinyin sort reads 25 rows from
  the index instead of sorting the whole table.
- pg_trgm GIN indexes: the search box's LIKE '%term%' on names, contacts and
  phones (plain for Chinese/digits, UPPER() for Latin, as Django's icontains).
Other databases get nothing: there the list is small.
"""

from django.db import migrations

INDEXES = [
    ("customer_name_zh_idx", 'CREATE INDEX IF NOT EXISTS customer_name_zh_idx ON customers_customer ((name COLLATE "zh-x-icu"), id) WHERE NOT is_deleted'),
    ("customer_name_trgm", "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer USING gin (name gin_trgm_ops)"),
    ("customer_name_upper_trgm", "CREATE INDEX IF NOT EXISTS customer_name_upper_trgm ON customers_customer USING gin (UPPER(name::text) gin_trgm_ops)"),
    ("customer_sales_raw_trgm", "CREATE INDEX IF NOT EXISTS customer_sales_raw_trgm ON customers_customer USING gin (sales_owner_raw gin_trgm_ops)"),
    ("contact_name_trgm", "CREATE INDEX IF NOT EXISTS contact_name_trgm ON customers_contact USING gin (name gin_trgm_ops)"),
    ("contact_name_upper_trgm", "CREATE INDEX IF NOT EXISTS contact_name_upper_trgm ON customers_contact USING gin (UPPER(name::text) gin_trgm_ops)"),
    ("contact_phone_trgm", "CREATE INDEX IF NOT EXISTS contact_phone_trgm ON customers_contact USING gin (phone gin_trgm_ops)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for _, sql in INDEXES:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_archive_sections")]

    operations = [migrations.RunPython(create, drop)]
