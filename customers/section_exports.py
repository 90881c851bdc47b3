"""The export's section sheets: one sheet per detail section, each row keyed by 公司id.

Columns hidden from the exporting user by the field policy are left out.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from .fieldpolicy import hidden_model_fields
from .models import (
    AdAccount,
    AttentionItem,
    BusinessProfile,
    Competitor,
    Contact,
    CooperationDetail,
    Customer,
    FollowUpNote,
    Project,
    QualityIssue,
    Renewal,
    WebsiteInfo,
)

# (sheet title, model, fields in column order). A user FK is written as the person's name.
SECTION_SHEETS: list[tuple[str, type[models.Model], list[str]]] = [
    (
        "合作详情",
        CooperationDetail,
        ["mode", "contract_start", "service_start", "special_conditions"],
    ),
    ("联系人", Contact, ["name", "position", "phone", "email", "is_primary"]),
    ("竞品", Competitor, ["company", "url", "notes"]),
    ("特别关注", AttentionItem, ["category", "priority", "text", "remind_on"]),
    (
        "问题与纠正措施",
        QualityIssue,
        [
            "occurred_on",
            "category",
            "description",
            "impact",
            "root_cause",
            "immediate_fix",
            "corrective_action",
            "preventive_action",
            "lessons_learned",
            "owner",
            "due_on",
            "completed_on",
            "status",
        ],
    ),  # fmt: skip
    (
        "续约",
        Renewal,
        ["kind", "amount", "period_months", "renewed_on", "expires_on", "status", "owner", "notes"],
    ),
    ("跟进记录", FollowUpNote, ["created_at", "author", "body", "next_follow_up_on"]),
    (
        "商业概况",
        BusinessProfile,
        [
            "business_model",
            "overseas_sales",
            "overseas_sales_ratio",
            "overseas_sales_target",
            "main_sales_channel",
            "has_tech_team",
            "has_operations_team",
            "has_brand_team",
            "cooperation_transfer",
        ],
    ),  # fmt: skip
    (
        "独立站",
        WebsiteInfo,
        [
            "site_url",
            "platform",
            "build_status",
            "launched_on",
            "target_markets",
            "main_products",
            "pricing_strategy",
            "monthly_traffic_target",
            "last_year_sales",
            "annual_sales_target",
        ],
    ),  # fmt: skip
    ("项目", Project, ["name", "kind", "status", "start_on", "end_on", "owner"]),
    ("广告账户", AdAccount, ["platform", "account_id", "status", "monthly_spend", "notes"]),
]


def section_columns(model: type[models.Model], fields: list[str], user: Any) -> list[str]:
    hidden = hidden_model_fields(user, model) if user is not None else set()
    return [f for f in fields if f not in hidden]


def _lookup(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return f"{name}__full_name" if field.many_to_one else name


def _cell(model: type[models.Model], name: str, value: Any) -> Any:
    """A cell value: choice labels, 是/否, dates as text, amounts as numbers."""
    field = model._meta.get_field(name)
    if value is None:
        return ""
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return value


def section_rows(
    model: type[models.Model], columns: list[str], customers: QuerySet[Customer]
) -> list[list[Any]]:
    """Rows of one section for the exported customers: 公司id first, then the columns."""
    lookups = [_lookup(model, c) for c in columns]
    rows = (
        model.objects.filter(customer__in=customers.order_by().values("pk"))
        .order_by("customer__company_id", "pk")
        .values_list("customer__company_id", *lookups)
    )
    return [
        [row[0], *(_cell(model, c, v) for c, v in zip(columns, row[1:], strict=True))]
        for row in rows
    ]


def section_sheets_write(
    workbook, *, queryset: QuerySet[Customer], user: Any, bold, literal
) -> None:
    from .exports import DANGEROUS_PREFIXES

    for title, model, fields in SECTION_SHEETS:
        columns = section_columns(model, fields, user)
        sheet = workbook.add_worksheet(title)
        headers = ["公司id", *(str(model._meta.get_field(c).verbose_name) for c in columns)]
        sheet.write_row(0, 0, headers, bold)
        sheet.freeze_panes(1, 1)
        for line, row in enumerate(section_rows(model, columns, queryset), start=1):
            for col, value in enumerate(row):
                if isinstance(value, bool):
                    value = "是" if value else "否"
                if isinstance(value, int | float | Decimal):
                    sheet.write_number(line, col, value)
                elif value:
                    text = str(value)
                    if text.startswith(DANGEROUS_PREFIXES):
                        sheet.write_string(line, col, text, literal)
                    else:
                        sheet.write_string(line, col, text)
