"""Tables of the accounts lists (audit log, background jobs): sorted and paged on the server."""

from __future__ import annotations

import re
from collections.abc import Collection

import django_tables2 as tables
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from opcms.tables import DateColumn

TEMPLATE = "includes/table.html"

# The most rows a page shows whatever ?per_page= asks: a URL asking for 100,000 rendered
# them all, and one asking for 0 answered 500 (the paginator divides by it).
MAX_PER_PAGE = 200


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class RequestConfig(tables.RequestConfig):
    """django-tables2's RequestConfig with ?per_page= kept within 1..MAX_PER_PAGE.

    Sorting is the library's; paging reads ?page= and ?per_page= as it does (a page out of
    range shows the last one, a page that is not a number the first) and bounds the size."""

    def configure(self, table):
        paginate, self.paginate = self.paginate, False
        super().configure(table)
        self.paginate = paginate
        if not paginate:
            return table
        options = dict(paginate) if hasattr(paginate, "items") else {}
        page = _int_or_none(self.request.GET.get(table.prefixed_page_field))
        if page is not None:
            options["page"] = page
        per_page = _int_or_none(self.request.GET.get(table.prefixed_per_page_field))
        if per_page is not None:
            options["per_page"] = min(max(per_page, 1), MAX_PER_PAGE)
        try:
            table.paginate(**options)
        except PageNotAnInteger:
            table.page = table.paginator.page(1)
        except EmptyPage:
            table.page = table.paginator.page(table.paginator.num_pages)
        return table


M2M_OPERATIONS = {"add": "添加", "delete": "移除", "clear": "清空"}
# auditlog ships no Chinese: its action names ("update") read in Chinese here.
ACTION_LABELS = {0: "新建", 1: "修改", 2: "删除", 3: "查看"}
ACTION_CHOICES = list(ACTION_LABELS.items())


def action_label(record) -> str:
    """The entry's action in Chinese (新建/修改/删除/查看)."""
    return ACTION_LABELS.get(record.action, record.get_action_display())


# A create entry lists every reverse relation as `app.Model.None`: nothing a reader needs.
EMPTY_RELATION = re.compile(r"^\w+\.\w+\.None$")


def _field_label(record, name: str) -> str:
    model = record.content_type.model_class() if record.content_type_id else None
    try:
        return str(model._meta.get_field(name).verbose_name) if model else name
    except Exception:  # a field since removed: its stored name is all there is
        return name


BOOLEANS = {"True": "是", "False": "否"}


def _shown(value) -> str:
    if value in (None, "", "None"):
        return "—"
    return BOOLEANS.get(str(value), str(value))


def audit_change_rows(record, *, hidden: Collection[str] = ()) -> list[tuple[str, str]]:
    """(field label, readable change) per changed field: names, not ids or `type → operation`.

    Foreign keys show the related object's name (auditlog's display dict resolves
    them); many-to-many changes (tags, ops owners) read "添加 重点客户". Fields
    named in `hidden` (the field policy's, for the reader) are left out.
    """
    rows: list[tuple[str, str]] = []
    display = record.changes_display_dict or {}
    raw = record.changes_dict or {}
    labels = {_field_label(record, name): name for name in raw}
    for label, change in display.items():
        name = labels.get(label, label)
        if name in hidden:
            continue
        value = raw.get(name)
        if isinstance(value, dict) and value.get("type") == "m2m":
            operation = M2M_OPERATIONS.get(value.get("operation"), value.get("operation", ""))
            objects = "、".join(str(o) for o in value.get("objects", [])) or "—"
            rows.append((label, f"{operation} {objects}"))
            continue
        before, after = (_shown(v) for v in (list(change) + ["", ""])[:2])
        if (EMPTY_RELATION.match(after) or after == "—") and before == "—":
            continue  # nothing was there and nothing is: a blank field of a new row
        rows.append((label, f"{before} → {after}"))
    return rows


class AuditTable(tables.Table):
    timestamp = DateColumn(verbose_name="时间", format="Y-m-d H:i:s")
    actor = tables.Column(verbose_name="操作人", order_by=("actor__username",), default="系统")
    action = tables.Column(verbose_name="操作")
    content_type = tables.Column(verbose_name="对象类型", order_by=("content_type__model",))
    object_repr = tables.Column(verbose_name="对象")
    changes = tables.Column(verbose_name="变更内容", accessor="pk", orderable=False)

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "table table-sm table-hover bg-white", "id": "audit-rows"}
        order_by = ("-timestamp",)
        empty_text = "没有符合条件的审计记录。调整筛选条件试试。"

    def render_actor(self, record) -> str:
        return record.actor.display_name if record.actor else "系统"

    def render_action(self, record) -> str:
        return action_label(record)

    def render_content_type(self, value) -> str:
        model = value.model_class()
        return str(model._meta.verbose_name) if model else value.model

    def render_changes(self, record) -> str:
        rows = audit_change_rows(record)
        if rows:
            return format_html_join("", "<div class='small'><strong>{}</strong>：{}</div>", rows)
        if record.additional_data:
            return format_html("<code>{}</code>", record.additional_data)
        return ""


class JobTable(tables.Table):
    id = tables.Column(verbose_name="#")
    title = tables.Column(verbose_name="任务", order_by=("title", "kind"))
    status = tables.Column(verbose_name="状态")
    percent = tables.Column(verbose_name="进度", accessor="pk", orderable=False)
    created_by = tables.Column(
        verbose_name="发起人", order_by=("created_by__username",), default="系统"
    )
    created_at = DateColumn(verbose_name="创建时间", format="Y-m-d H:i")

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "table table-sm bg-white", "id": "job-rows"}
        order_by = ("-created_at",)
        empty_text = "还没有后台任务。导入、导出和批量生成账单会在这里显示进度。"

    def render_id(self, value) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("accounts:job-detail", args=[value]), value
        )

    def render_title(self, record) -> str:
        return record.title or record.kind

    def render_status(self, record) -> str:
        return record.get_status_display()

    def render_percent(self, record) -> str:
        return f"{record.percent}%"

    def render_created_by(self, record) -> str:
        return record.created_by.display_name if record.created_by else "系统"
