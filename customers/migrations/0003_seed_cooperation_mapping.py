"""Seed the default 合作状态 → lifecycle mapping for the texts of the company workbook.

Admins edit the table afterwards; get_or_create keeps their edits on re-run.
"""

from django.db import migrations

DEFAULT_MAPPING = {
    "正常使用": "active",
    "近一年未使用": "dormant",
    "待确认": "potential",
    "待确认  @李伟光": "potential",
    "商务阶段": "negotiating",
    "等待巧房": "negotiating",
    "入贝": "churned",
    "双方案使用": "active",
    "切换如视": "churned",
    "切换123": "churned",
    "消耗余量": "active",
}


def seed(apps, schema_editor):
    mapping = apps.get_model("customers", "CooperationStatusMapping")
    for note_text, status in DEFAULT_MAPPING.items():
        mapping.objects.get_or_create(note_text=note_text, defaults={"status": status})


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_imported_price")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
