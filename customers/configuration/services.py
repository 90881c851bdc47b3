"""Writes of the archive's settings pages: dictionaries, 合作状态 mapping, Q&A categories, hidden fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError

from accounts import roles
from customers.models import (
    CooperationStatusMapping,
    DictionaryItem,
    HiddenField,
    IssueCategory,
    LifecycleRule,
)
from customers.services import _assign, _full_clean


@dataclass(frozen=True)
class Setting:
    """One settings list: its model, who may change it, and its Chinese title."""

    model: type[models.Model]
    title: str
    allowed: Any  # predicate (user) -> bool from accounts.roles


SETTINGS: dict[str, Setting] = {
    "dictionary": Setting(DictionaryItem, "字典", roles.can_configure_archive),
    "mapping": Setting(CooperationStatusMapping, "合作状态映射", roles.can_configure_archive),
    "categories": Setting(IssueCategory, "问题分类", roles.can_manage_issue_categories),
    # The rules the nightly lifecycle run applies (issue 13 runs them; edited here).
    "lifecycle-rules": Setting(LifecycleRule, "生命周期自动规则", roles.can_configure_archive),
}


def _require(user: Any, kind: str) -> Setting:
    setting = SETTINGS[kind]
    if not setting.allowed(user):
        raise PermissionDenied("您无权修改该设置")
    return setting


@transaction.atomic
def setting_item_save(
    *, user: Any, kind: str, data: dict[str, Any], item: models.Model | None = None
) -> models.Model:
    """Create or change one row of a settings list (audited by django-auditlog)."""
    setting = _require(user, kind)
    item = item or setting.model()
    _assign(item, data)
    _full_clean(item)
    try:
        with transaction.atomic(), set_actor(user):
            item.save()
    except IntegrityError as exc:
        raise ValidationError("已存在相同的条目") from exc
    return item


@transaction.atomic
def setting_item_delete(*, user: Any, kind: str, item: models.Model) -> None:
    _require(user, kind)
    try:
        with transaction.atomic(), set_actor(user):
            item.delete()
    except ProtectedError as exc:
        raise ValidationError("该条目已被客户使用，不能删除；可改为停用") from exc


# Defaults of the Q&A category list (specification 6.2.2), for new installations.
DEFAULT_ISSUE_CATEGORIES = ["服务问题", "技术问题", "沟通问题", "合同问题", "其他问题"]


def issue_categories_seed_defaults(*, model: type[models.Model] | None = None) -> int:
    """Add the default categories when the list is empty; never touch an admin's list."""
    model = model or IssueCategory
    if model.objects.exists():
        return 0
    model.objects.bulk_create(
        [model(name=name, sort_order=i) for i, name in enumerate(DEFAULT_ISSUE_CATEGORIES)]
    )
    return len(DEFAULT_ISSUE_CATEGORIES)


@transaction.atomic
def hidden_fields_set(*, user: Any, hidden: set[tuple[str, str]]) -> int:
    """Replace the (role, field) pairs hidden from roles; each added/removed row is audited."""
    if not roles.can_set_field_visibility(user):
        raise PermissionDenied("只有管理员可以设置字段权限")
    valid_roles = {r for r in roles.Role.values if r != roles.Role.ADMIN}
    if any(r not in valid_roles or f not in HiddenField.Field.values for r, f in hidden):
        raise ValidationError("字段权限设置无效")
    current = {(h.role, h.field): h for h in HiddenField.objects.select_for_update()}
    changed = 0
    with set_actor(user):
        for pair, row in current.items():
            if pair not in hidden:
                row.delete()
                changed += 1
        for role, field in hidden - set(current):
            HiddenField.objects.create(role=role, field=field)
            changed += 1
    return changed
