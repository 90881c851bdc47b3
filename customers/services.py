"""Writes for the customer archive: create/update, lifecycle, sections, batch actions, drafts."""

from __future__ import annotations

import json
from typing import Any

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import NotificationKind
from accounts.notifications import notify
from accounts.roles import (
    can_assign_owners,
    can_create_customer,
    can_delete_customer,
    can_edit_customer,
    can_manage_groups,
    is_admin,
)

from .lifecycle import DEFAULT_COOPERATION_MAPPING, allowed_transitions, can_transition
from .models import (
    AdAccount,
    AttentionItem,
    BusinessProfile,
    Competitor,
    Contact,
    CooperationDetail,
    CooperationStatusMapping,
    Customer,
    CustomerDraft,
    CustomerGroup,
    FollowUpNote,
    GradeThresholds,
    LifecycleChange,
    LifecycleRule,
    LifecycleStatus,
    Project,
    QualityIssue,
    RecentSearch,
    Renewal,
    SavedFilter,
    Tag,
    WebsiteInfo,
    parse_onboarded,
)
from .pinyin import name_sort_key
from .selectors import (
    cooperation_status_for,
    editable_customers,
    parse_id,
    scoped_customers,
    users_in_scope_of,
)

# Section name (URL slug) → model of the customer's repeatable detail rows.
SECTION_MODELS: dict[str, type[models.Model]] = {
    "contacts": Contact,
    "competitors": Competitor,
    "attention": AttentionItem,
    "issues": QualityIssue,
    "renewals": Renewal,
    "followups": FollowUpNote,
    "projects": Project,
    "adaccounts": AdAccount,
}

# Section name → model of the customer's one-row profile sections (edited like 合作详情).
PROFILE_MODELS: dict[str, type[models.Model]] = {
    "business": BusinessProfile,
    "website": WebsiteInfo,
}


def _assign(instance: models.Model, data: dict[str, Any]) -> dict[str, Any]:
    """Set plain and FK fields from `data` (FKs accept an instance or a pk); return the M2M values."""
    m2m: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in data.items():
        try:
            field = instance._meta.get_field(key)
        except FieldDoesNotExist:
            errors[key] = f"未知字段：{key}"
            continue
        if field.many_to_many:
            m2m[key] = list(value or [])
        elif field.many_to_one or field.one_to_one:
            if value in ("", None) or isinstance(value, models.Model):
                setattr(instance, key, value or None)
            else:
                setattr(instance, field.attname, value)
        else:
            setattr(instance, key, field.to_python(value) if value is not None else value)
    if errors:
        raise ValidationError(errors)
    return m2m


def _refuse_owner_change(user: Any, customer: Customer, m2m: dict[str, Any]) -> None:
    """Ops owners are assigned by ops and admin only (roles.can_assign_owners), on every
    path: the web form hides the field, batch refuses the action, and the API lands here."""
    if "ops_owners" not in m2m or can_assign_owners(user):
        return
    wanted = {v.pk if isinstance(v, models.Model) else int(v) for v in m2m["ops_owners"]}
    current = set(customer.ops_owners.values_list("pk", flat=True)) if customer.pk else set()
    if wanted != current:
        raise ValidationError({"ops_owners": "您无权指派运营负责人"})


def _with_onboarded_period(data: dict[str, Any]) -> dict[str, Any]:
    """Derive year and half from the raw 接入时间 text unless the caller gave them."""
    if "onboarded_raw" in data and "onboarded_year" not in data and "onboarded_half" not in data:
        year, half = parse_onboarded(data["onboarded_raw"] or "")
        data = {**data, "onboarded_year": year, "onboarded_half": half}
    return data


def _full_clean(instance: models.Model, **kwargs: Any) -> None:
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


def _require_edit(user: Any, customer: Customer) -> None:
    if (
        not can_edit_customer(user, customer)
        or not scoped_customers(user).filter(pk=customer.pk).exists()
    ):
        raise PermissionDenied("您无权修改该客户")


def cooperation_mapping_seed_defaults(*, model: type[models.Model] | None = None) -> int:
    """Add the default 合作状态 mappings that are missing; never overwrite an admin's edits.

    Used by data migration 0003 (with the historical model) and by anything
    that must not depend on that migration's rows still being there (test
    databases flushed by transactional tests, demo seeding). Returns how many
    rows it added.
    """
    model = model or CooperationStatusMapping
    present = set(model.objects.values_list("note_text", flat=True))
    missing = [
        model(note_text=text, status=str(status))
        for text, status in DEFAULT_COOPERATION_MAPPING.items()
        if text not in present
    ]
    model.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


@transaction.atomic
def customer_create(*, user: Any, data: dict[str, Any]) -> Customer:
    """Create a customer from model-field data; sales users always own what they create."""
    if not can_create_customer(user):
        raise PermissionDenied("您无权新建客户")
    data = _with_onboarded_period(dict(data))
    status = data.pop("lifecycle_status", None) or LifecycleStatus.POTENTIAL
    customer = Customer(lifecycle_status=status)
    m2m = _assign(customer, data)
    _refuse_owner_change(user, customer, m2m)
    if not can_assign_owners(user):
        if customer.sales_owner_id not in (None, user.pk):
            raise ValidationError({"sales_owner": "销售只能新建本人负责的客户"})
        customer.sales_owner_id = user.pk
    _full_clean(customer)
    customer.name_pinyin = name_sort_key(customer.name)
    with set_actor(user):
        customer.save()
        for name, values in m2m.items():
            getattr(customer, name).set(values)
        # The history starts with the first status, as it does for imported customers.
        LifecycleChange.objects.create(
            customer=customer, from_status="", to_status=status, reason="新建客户", changed_by=user
        )
    return customer


@transaction.atomic
def customer_update(*, user: Any, customer: Customer, data: dict[str, Any]) -> Customer:
    """Update model fields; a lifecycle change goes through the status machine (reason in `status_reason`)."""
    _require_edit(user, customer)
    data = _with_onboarded_period(dict(data))
    reason = data.pop("status_reason", "")
    new_status = data.pop("lifecycle_status", None)
    note = data.get("cooperation_note")
    # Compare with the stored note: a ModelForm bound to `customer` has already
    # copied the new value onto the instance during is_valid().
    stored_note = (
        Customer.objects.filter(pk=customer.pk).values_list("cooperation_note", flat=True).first()
    )
    if not new_status and note is not None and note.strip() != stored_note:
        # A hand-edited 合作状态 moves the status as the import would, through
        # the admin's mapping, but by hand only along the lifecycle machine.
        mapped = cooperation_status_for(note)
        if mapped and mapped != customer.lifecycle_status:
            new_status = mapped
            reason = reason or f"合作状态改为“{note.strip()}”"
            if not can_transition(customer.lifecycle_status, mapped):
                allowed = "、".join(
                    LifecycleStatus(s).label for s in allowed_transitions(customer.lifecycle_status)
                )
                raise ValidationError(
                    {
                        "cooperation_note": f"合作状态“{note.strip()}”对应生命周期状态"
                        f"“{LifecycleStatus(mapped).label}”，不能从"
                        f"“{LifecycleStatus(customer.lifecycle_status).label}”直接变更"
                        f"（可变更为：{allowed}）；请先变更生命周期状态，或改用其他合作状态"
                    }
                )
    if "sales_owner" in data and not can_assign_owners(user):
        owner = data["sales_owner"]
        owner_id = owner.pk if isinstance(owner, models.Model) else owner
        if str(owner_id or "") != str(customer.sales_owner_id or ""):
            raise ValidationError({"sales_owner": "您无权更改销售负责人"})
    m2m = _assign(customer, data)
    _refuse_owner_change(user, customer, m2m)
    _full_clean(customer)
    customer.name_pinyin = name_sort_key(customer.name)
    with set_actor(user):
        customer.save()
        for name, values in m2m.items():
            getattr(customer, name).set(values)
    if new_status and new_status != customer.lifecycle_status:
        customer_change_status(user=user, customer=customer, to_status=new_status, reason=reason)
    return customer


@transaction.atomic
def customer_change_status(
    *, user: Any, customer: Customer, to_status: str, reason: str = ""
) -> LifecycleChange:
    """Move a customer along the lifecycle machine and record who/when/from/to/why."""
    _require_edit(user, customer)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    from_status = customer.lifecycle_status
    if not can_transition(from_status, to_status):
        allowed = "、".join(LifecycleStatus(s).label for s in allowed_transitions(from_status))
        raise ValidationError(
            {
                "to_status": f"不能从“{LifecycleStatus(from_status).label}”变更为"
                f"“{LifecycleStatus(to_status).label if to_status in LifecycleStatus.values else to_status}”；"
                f"可变更为：{allowed}"
            }
        )
    with set_actor(user):
        customer.lifecycle_status = to_status
        customer.save(update_fields=["lifecycle_status", "updated_at"])
        change = LifecycleChange.objects.create(
            customer=customer,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            changed_by=user,
        )
    lifecycle_change_notify(change=change)
    return change


@transaction.atomic
def customer_change_status_by_rule(
    *, customer: Customer, to_status: str, rule_name: str
) -> LifecycleChange | None:
    """The nightly rules' status change: no actor, reason `系统自动：<rule>`, owner told.

    Returns None when the customer moved meanwhile and the step is no longer allowed.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    from_status = customer.lifecycle_status
    if not can_transition(from_status, to_status):
        return None
    customer.lifecycle_status = to_status
    customer.save(update_fields=["lifecycle_status", "updated_at"])
    change = LifecycleChange.objects.create(
        customer=customer,
        from_status=from_status,
        to_status=to_status,
        reason=f"{AUTO_REASON_PREFIX}{rule_name}",
        changed_by=None,
    )
    lifecycle_change_notify(change=change)
    return change


AUTO_REASON_PREFIX = "系统自动："


def lifecycle_change_notify(*, change: LifecycleChange) -> None:
    """Tell the customer's sales owner who moved their customer and why (not their own moves)."""
    customer = change.customer
    owner = customer.sales_owner
    if owner is None or owner.pk == change.changed_by_id:
        return
    who = change.changed_by.display_name if change.changed_by else "系统"
    notify(
        recipients=users_in_scope_of(customer, [owner]),
        kind=NotificationKind.LIFECYCLE_CHANGED,
        event_key=f"lifecycle:{change.pk}",
        title=f"{customer.name}：{change.get_from_status_display()} → {change.get_to_status_display()}",
        body=f"操作人：{who}；原因：{change.reason or '（未填写）'}",
        link=reverse("customers:customer-detail", args=[customer.pk]),
        obj=customer,
    )


# Rules the nightly run starts with; admins edit them afterwards (Django admin).
DEFAULT_LIFECYCLE_RULES = [
    ("活跃客户 90 天无用量转休眠", "active", "dormant", "no_usage_days", 90),
    ("合同到期未续约转暂停", "active", "suspended", "contract_ended", 0),
    ("休眠满 180 天转流失", "dormant", "churned", "in_status_days", 180),
]


def lifecycle_rules_seed_defaults(*, model: type[models.Model] | None = None) -> int:
    """Create the default rules once (the migration passes its historical model)."""
    model = model or LifecycleRule
    if model.objects.exists():
        return 0
    for order, (name, from_status, to_status, condition, days) in enumerate(
        DEFAULT_LIFECYCLE_RULES
    ):
        model.objects.create(
            name=name,
            from_status=from_status,
            to_status=to_status,
            condition=condition,
            days=days,
            sort_order=order,
        )
    return len(DEFAULT_LIFECYCLE_RULES)


def customer_set_grade(*, user: Any, customer: Customer, level: str) -> Customer:
    if level not in Customer.Level.values and level != "":
        raise ValidationError({"level": "客户等级须为 S/A/B/C/D"})
    return customer_update(user=user, customer=customer, data={"level": level})


@transaction.atomic
def customer_soft_delete(*, user: Any, customer: Customer) -> Customer:
    """Hide a customer everywhere (admin only); its bills and history stay.

    Money must not disappear with it: a database trigger (billing migration 0006)
    refuses while an issued bill is unpaid or a payment is not fully allocated.
    """
    if not can_delete_customer(user, customer):
        raise PermissionDenied("只有管理员可以删除客户")
    try:
        with transaction.atomic(), set_actor(user):
            customer.is_deleted = True
            customer.deleted_at = timezone.now()
            customer.save(update_fields=["is_deleted", "deleted_at", "updated_at"])
    except IntegrityError:
        customer.is_deleted = False
        customer.deleted_at = None
        raise ValidationError(
            f"客户“{customer.name}”还有未结清的账单或未核销的收款，不能删除；"
            "请先结清或核销（或冲正账单）后再删除。"
        ) from None
    return customer


@transaction.atomic
def cooperation_save(*, user: Any, customer: Customer, data: dict[str, Any]) -> CooperationDetail:
    _require_edit(user, customer)
    detail = CooperationDetail.objects.filter(customer=customer).first() or CooperationDetail(
        customer=customer
    )
    _assign(detail, data)
    _full_clean(detail)
    with set_actor(user):
        detail.save()
    return detail


@transaction.atomic
def section_item_save(
    *,
    user: Any,
    customer: Customer,
    section: str,
    data: dict[str, Any],
    item: models.Model | None = None,
) -> models.Model:
    """Create or update one row of a detail section (contacts, competitors, Q&A, ...)."""
    _require_edit(user, customer)
    model = SECTION_MODELS[section]
    if item is None:
        item = model(customer=customer)
        if model is FollowUpNote:
            item.author = user
    elif item.customer_id != customer.pk:
        raise PermissionDenied("记录不属于该客户")
    data = {k: v for k, v in data.items() if k not in ("customer", "author")}
    _assign(item, data)
    with set_actor(user):
        if model is Contact:
            siblings = (
                Contact.objects.select_for_update().filter(customer=customer).exclude(pk=item.pk)
            )
            if not siblings.exists():
                item.is_primary = True  # the first contact is the primary one
            # The one-primary constraint is enforced by demoting the previous primary below.
            _full_clean(item, validate_constraints=False)
            if item.is_primary:
                # One primary per customer: demote the previous one (saved, so audited).
                for other in siblings.filter(is_primary=True):
                    other.is_primary = False
                    other.save(update_fields=["is_primary"])
        else:
            _full_clean(item)
        item.save()
    return item


@transaction.atomic
def section_item_delete(*, user: Any, customer: Customer, section: str, item: models.Model) -> None:
    _require_edit(user, customer)
    if item.customer_id != customer.pk:
        raise PermissionDenied("记录不属于该客户")
    with set_actor(user):
        item.delete()
        if isinstance(item, Contact) and item.is_primary:
            successor = Contact.objects.filter(customer=customer).order_by("id").first()
            if successor:
                successor.is_primary = True
                successor.save(update_fields=["is_primary"])


@transaction.atomic
def customer_tag_add(*, user: Any, customer: Customer, name: str) -> Tag:
    _require_edit(user, customer)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "标签不能为空"})
    if len(name) > 30:
        raise ValidationError({"name": "标签最多 30 个字"})
    tag, _ = Tag.objects.get_or_create(name=name)
    with set_actor(user):
        customer.tags.add(tag)
    return tag


@transaction.atomic
def customer_tag_remove(*, user: Any, customer: Customer, tag: Tag) -> None:
    _require_edit(user, customer)
    with set_actor(user):
        customer.tags.remove(tag)


def grade_thresholds_update(*, user: Any, data: dict[str, Any]) -> GradeThresholds:
    if not is_admin(user):
        raise PermissionDenied("只有管理员可以设置等级阈值")
    thresholds = GradeThresholds.objects.first() or GradeThresholds()
    _assign(thresholds, data)
    _full_clean(thresholds)
    with set_actor(user):
        thresholds.save()
    return thresholds


# --- Batch actions -----------------------------------------------------------------


class BatchAction(models.TextChoices):
    STATUS = "status", "变更生命周期状态"
    GRADE = "grade", "设置客户等级"
    SALES_OWNER = "sales_owner", "指派销售负责人"
    OPS_OWNER = "ops_owner", "添加运营负责人"
    TAG = "tag", "添加标签"


def _audit_bulk(*, user: Any, rows: list[tuple[int, str, dict[str, list]]], note: str) -> None:
    """Audit rows changed by QuerySet.update()/bulk_create, which django-auditlog cannot see."""
    content_type = ContentType.objects.get_for_model(Customer)
    now = timezone.now()
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                content_type=content_type,
                object_pk=str(pk),
                object_id=pk,
                object_repr=repr_,
                action=LogEntry.Action.UPDATE,
                changes=changes,
                changes_text=note,
                actor=user,
                timestamp=now,
                additional_data={"batch": note},
            )
            for pk, repr_, changes in rows
        ],
        batch_size=2000,
    )


def _update_in_chunks(ids: list[int], **values: Any) -> None:
    now = timezone.now()
    for start in range(0, len(ids), 5000):
        Customer.objects.filter(pk__in=ids[start : start + 5000]).update(**values, updated_at=now)


def _repr(row: dict) -> str:
    return f"{row['name']}（{row['company_id']}）"


@transaction.atomic
def customers_batch_apply(
    *, user: Any, customers: QuerySet[Customer], action: str, value: Any, reason: str = ""
) -> int:
    """Apply one batch action to a selection (or a whole filtered set), all or nothing.

    Every customer must be editable by `user`; otherwise nothing changes. Rows
    are written with update()/bulk_create, so each change is audited here.
    """
    # The selection stays a subquery: a whole filtered set can be 100k ids, more
    # than a database accepts as query parameters.
    selected_count = customers.count()
    if not selected_count:
        raise ValidationError("请先选择客户")
    target = editable_customers(user).filter(pk__in=customers.values("pk")).select_for_update()
    rows = list(
        target.values("pk", "name", "company_id", "lifecycle_status", "level", "sales_owner_id")
    )
    if len(rows) != selected_count:
        raise ValidationError(
            f"所选客户中有 {selected_count - len(rows)} 个您无权修改，未做任何更改"
        )
    ids = [r["pk"] for r in rows]
    if action in (BatchAction.SALES_OWNER, BatchAction.OPS_OWNER) and not can_assign_owners(user):
        raise PermissionDenied("您无权指派负责人")
    label = BatchAction(action).label if action in BatchAction.values else action

    if action == BatchAction.STATUS:
        if value not in LifecycleStatus.values:
            raise ValidationError("请选择有效的生命周期状态")
        refused = [
            r
            for r in rows
            if r["lifecycle_status"] != value and not can_transition(r["lifecycle_status"], value)
        ]
        if refused:
            names = "、".join(_repr(r) for r in refused[:5])
            raise ValidationError(
                f"{len(refused)} 个客户不能变更为“{LifecycleStatus(value).label}”（如 {names}），未做任何更改"
            )
        moving = [r for r in rows if r["lifecycle_status"] != value]
        LifecycleChange.objects.bulk_create(
            [
                LifecycleChange(
                    customer_id=r["pk"],
                    from_status=r["lifecycle_status"],
                    to_status=value,
                    reason=reason,
                    changed_by=user,
                )
                for r in moving
            ],
            batch_size=2000,
        )
        _update_in_chunks([r["pk"] for r in moving], lifecycle_status=value)
        _audit_bulk(
            user=user,
            rows=[
                (r["pk"], _repr(r), {"lifecycle_status": [r["lifecycle_status"], value]})
                for r in moving
            ],
            note=label,
        )
        return len(moving)

    if action == BatchAction.GRADE:
        if value not in Customer.Level.values:
            raise ValidationError("请选择有效的客户等级")
        _update_in_chunks(ids, level=value)
        _audit_bulk(
            user=user,
            rows=[(r["pk"], _repr(r), {"level": [r["level"], value]}) for r in rows],
            note=label,
        )
        return len(rows)

    if action in (BatchAction.SALES_OWNER, BatchAction.OPS_OWNER):
        from accounts.models import User

        owner = (
            User.objects.filter(pk=parse_id(value), is_active=True).first()
            if parse_id(value) is not None
            else None
        )
        if owner is None:
            raise ValidationError("请选择有效的负责人")
        if action == BatchAction.SALES_OWNER:
            _update_in_chunks(ids, sales_owner=owner)
            changes = lambda r: {"sales_owner": [str(r["sales_owner_id"] or ""), str(owner.pk)]}  # noqa: E731
        else:
            through = Customer.ops_owners.through
            through.objects.bulk_create(
                [through(customer_id=pk, user_id=owner.pk) for pk in ids],
                ignore_conflicts=True,
                batch_size=2000,
            )
            changes = lambda r: {"ops_owners": ["", f"+{owner.display_name}"]}  # noqa: E731
        _audit_bulk(
            user=user,
            rows=[(r["pk"], _repr(r), changes(r)) for r in rows],
            note=f"{label}：{owner.display_name}",
        )
        return len(rows)

    if action == BatchAction.TAG:
        name = str(value or "").strip()
        if not name or len(name) > 30:
            raise ValidationError("标签不能为空，最多 30 个字")
        tag, _ = Tag.objects.get_or_create(name=name)
        through = Customer.tags.through
        through.objects.bulk_create(
            [through(customer_id=pk, tag_id=tag.pk) for pk in ids],
            ignore_conflicts=True,
            batch_size=2000,
        )
        _audit_bulk(
            user=user,
            rows=[(r["pk"], _repr(r), {"tags": ["", f"+{name}"]}) for r in rows],
            note=f"{label}：{name}",
        )
        return len(rows)

    raise ValidationError("未知的批量操作")


# --- List preferences and wizard drafts -------------------------------------------


def saved_filter_save(*, user: Any, name: str, query: str) -> SavedFilter:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "请填写筛选名称"})
    if len(name) > 50:
        raise ValidationError({"name": "筛选名称最多 50 个字"})
    saved, _ = SavedFilter.objects.update_or_create(
        owner=user, name=name, defaults={"query": query}
    )
    return saved


def saved_filter_delete(*, user: Any, saved: SavedFilter) -> None:
    if saved.owner_id != user.pk:
        raise PermissionDenied
    saved.delete()


# A whole wizard's worth of text is a few KB; the autosave endpoint must not store
# whatever a script posts to it every 30 seconds.
DRAFT_MAX_BYTES = 64 * 1024


def customer_draft_save(*, user: Any, step: int, step_data: dict[str, list[str]]) -> CustomerDraft:
    """Store the raw fields of one wizard step (no validation: a draft may be incomplete)."""
    draft, _ = CustomerDraft.objects.get_or_create(owner=user)
    # PostgreSQL's jsonb refuses NUL characters.
    step_data = {
        key.replace("\x00", ""): [str(v).replace("\x00", "") for v in values]
        for key, values in step_data.items()
    }
    data = {**draft.data, str(step): step_data}
    if len(json.dumps(data, ensure_ascii=False).encode()) > DRAFT_MAX_BYTES:
        raise ValidationError(
            f"草稿内容过多（上限 {DRAFT_MAX_BYTES // 1024} KB），未保存；请精简后再试"
        )
    draft.data = data
    draft.step = max(1, min(5, step))
    draft.save()
    return draft


def customer_draft_discard(*, user: Any) -> None:
    CustomerDraft.objects.filter(owner=user).delete()


@transaction.atomic
def customer_create_with_sections(
    *,
    user: Any,
    data: dict[str, Any],
    cooperation: dict[str, Any] | None = None,
    contacts: list[dict[str, Any]] = (),  # type: ignore[assignment]
    competitors: list[dict[str, Any]] = (),  # type: ignore[assignment]
    attention: list[dict[str, Any]] = (),  # type: ignore[assignment]
    business: dict[str, Any] | None = None,
    website: dict[str, Any] | None = None,
    regions: list[Any] = (),  # type: ignore[assignment]
) -> Customer:
    """The wizard's final save: the customer and its first section rows, in one transaction."""
    customer = customer_create(user=user, data=data)
    try:
        if cooperation and any(v not in (None, "") for v in cooperation.values()):
            cooperation_save(user=user, customer=customer, data=cooperation)
        for section, rows in (
            ("contacts", contacts),
            ("competitors", competitors),
            ("attention", attention),
        ):
            for row in rows:
                section_item_save(user=user, customer=customer, section=section, data=row)
        for section, profile in (("business", business), ("website", website)):
            if profile and any(v not in (None, "", False) for v in profile.values()):
                profile_save(user=user, customer=customer, section=section, data=profile)
        if regions:
            customer_regions_set(user=user, customer=customer, regions=list(regions))
    except IntegrityError as exc:  # pragma: no cover - guarded by validation above
        raise ValidationError(str(exc)) from exc
    customer_draft_discard(user=user)
    return customer


# Above this many customers a "whole filtered set" batch runs as a background
# job: one audit row per customer makes 100k rows take tens of seconds.
BATCH_SYNC_LIMIT = 2000


def customers_batch_job_start(*, user: Any, query: str, action: str, value: Any, reason: str = ""):
    """Queue a batch action on the filtered set described by `query` (the list's query string)."""
    from django.urls import reverse

    from accounts.services import job_create, job_enqueue

    from .batch_jobs import customers_batch_task

    label = BatchAction(action).label if action in BatchAction.values else action
    job = job_create(
        kind="customers_batch",
        created_by=user,
        title=f"客户批量操作：{label}",
        params={
            "query": query,
            "action": action,
            "value": value,
            "reason": reason,
            "next_url": f"{reverse('customers:customer-list')}?{query}",
        },
    )
    job_enqueue(job=job, task=customers_batch_task)
    return job


def customers_batch_job_work(job, progress) -> dict[str, Any]:
    """The job body: re-apply the saved filter in the starter's scope, then the batch service."""
    from django.http import QueryDict

    from .filters import CustomerFilter

    user = job.created_by
    params = job.params
    customers = CustomerFilter(QueryDict(params["query"]), queryset=scoped_customers(user)).qs
    progress(0, customers.count())
    count = customers_batch_apply(
        user=user,
        customers=customers,
        action=params["action"],
        value=params["value"],
        reason=params["reason"],
    )
    return {"updated": count, "summary": f"已更新 {count} 个客户"}


# --- Archive depth (issue 18) --------------------------------------------------------


@transaction.atomic
def profile_save(
    *, user: Any, customer: Customer, section: str, data: dict[str, Any]
) -> models.Model:
    """Create or update a one-row profile section (business profile, independent site)."""
    _require_edit(user, customer)
    model = PROFILE_MODELS[section]
    profile = model.objects.filter(customer=customer).first() or model(customer=customer)
    _assign(profile, {k: v for k, v in data.items() if k != "customer"})
    _full_clean(profile)
    with set_actor(user):
        profile.save()
    return profile


@transaction.atomic
def customer_regions_set(*, user: Any, customer: Customer, regions: list[Any]) -> Customer:
    """Set a customer's regions (dictionary items of kind 地区)."""
    from .models import DictionaryItem

    _require_edit(user, customer)
    ids = [r.pk if isinstance(r, models.Model) else int(r) for r in regions]
    valid = set(
        DictionaryItem.objects.filter(pk__in=ids, kind=DictionaryItem.Kind.REGION).values_list(
            "pk", flat=True
        )
    )
    if len(valid) != len(set(ids)):
        raise ValidationError({"regions": "地区须从地区字典中选择"})
    with set_actor(user):
        customer.regions.set(valid)
    return customer


RECENT_SEARCHES_KEPT = 10
RECENT_SEARCH_MAX_CHARS = 1000


def recent_search_record(*, user: Any, query: str, label: str) -> None:
    """Remember one list search of `user`; only the last ten are kept (a repeat moves to the top)."""
    query = query.strip()
    # A querystring past this is not a search anyone repeats (and would not fit the index).
    if not query or len(query) > RECENT_SEARCH_MAX_CHARS:
        return
    if not getattr(user, "is_authenticated", False):
        return
    label = label[:200] or query[:200]
    # Paging and sorting repeat the search at the top of the list: one read instead of a
    # write transaction (and its commit) on every page.
    latest = RecentSearch.objects.filter(owner=user).values_list("query", "label").first()
    if latest == (query, label):
        return
    # One upsert (INSERT ... ON CONFLICT DO UPDATE): two tabs of one user searching the same
    # thing at once both succeed (a delete-then-insert let the second break the unique key).
    with transaction.atomic():
        RecentSearch.objects.bulk_create(
            [
                RecentSearch(
                    owner=user,
                    query=query,
                    label=label,
                    searched_at=timezone.now(),
                )
            ],
            update_conflicts=True,
            unique_fields=["owner", "query"],
            update_fields=["label", "searched_at"],
        )
        keep = RecentSearch.objects.filter(owner=user).values("pk")[:RECENT_SEARCHES_KEPT]
        # One DELETE ... NOT IN (SELECT ... LIMIT 10): PostgreSQL takes a LIMIT in a subquery.
        RecentSearch.objects.filter(owner=user).exclude(pk__in=keep).delete()


# --- head-office groups (集团) -------------------------------------------------------


@transaction.atomic
def group_create(*, user: Any, name: str, head_office: Customer) -> CustomerGroup:
    """A group whose head office pays its members' bills; the head office is a member too."""
    if not can_manage_groups(user):
        raise PermissionDenied("无权维护集团")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写集团名称"})
    if CustomerGroup.objects.filter(name=name).exists():
        raise ValidationError({"name": f"集团“{name}”已存在"})
    with set_actor(user):
        group = CustomerGroup.objects.create(name=name, head_office=head_office)
        Customer.objects.filter(pk=head_office.pk).update(group=group)
    return group


@transaction.atomic
def group_set_members(*, user: Any, group: CustomerGroup, customers: list[Customer]) -> int:
    """Make exactly these customers (plus the head office) the group's members; audited once."""
    if not can_manage_groups(user):
        raise PermissionDenied("无权维护集团")
    ids = {c.pk for c in customers} | {group.head_office_id}
    elsewhere = (
        Customer.objects.filter(pk__in=ids, group__isnull=False)
        .exclude(group=group)
        .values_list("company_id", "group__name")
        .first()
    )
    if elsewhere:
        raise ValidationError(f"客户 {elsewhere[0]} 已属于集团“{elsewhere[1]}”，请先将其移出")
    Customer.objects.filter(group=group).exclude(pk__in=ids).update(group=None)
    Customer.objects.filter(pk__in=ids).update(group=group)
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(CustomerGroup),
        object_pk=str(group.pk),
        object_id=group.pk,
        object_repr=f"集团“{group.name}”成员 {len(ids)} 位",
        action=LogEntry.Action.UPDATE,
        changes={"成员数": ["", str(len(ids))]},
        actor=user if getattr(user, "is_authenticated", False) else None,
    )
    return len(ids)
