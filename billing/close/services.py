"""Writes of the month-end close (月结): close, reopen, gate overrides and what clears a gate."""

from __future__ import annotations

from datetime import date
from typing import Any

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import NotificationKind, User
from accounts.notifications import notify
from accounts.roles import Role, can_close_period, can_override_close_gate, can_reopen_period
from accounts.webhooks import webhook_emit
from billing.audit import audit_bulk
from billing.close.selectors import GATES, period_gates
from billing.models import (
    Bill,
    NoUsageConfirmation,
    Payment,
    Period,
    PeriodGateOverride,
    ReceiptExplanation,
)
from customers.models import Customer
from opcms.months import month_format, month_start


def _reason(text: str | None, field: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: "请填写原因"})
    return text[:200]


def _period_for_update(month: date) -> Period:
    period, _ = Period.objects.get_or_create(month=month_start(month))
    return Period.objects.select_for_update().get(pk=period.pk)


def period_gate_override(*, user: Any, period: date, gate: str, reason: str) -> PeriodGateOverride:
    """An admin lets one red gate pass for the month, with a reason (audited)."""
    if not can_override_close_gate(user):
        raise PermissionDenied("只有管理员可以豁免关账检查项")
    if gate not in GATES:
        raise ValidationError({"gate": f"没有检查项“{gate}”"})
    reason = _reason(reason)
    with transaction.atomic(), set_actor(user):
        row = _period_for_update(period)
        if row.is_closed:
            raise ValidationError(f"{month_format(row.month)} 已关账")
        override, _ = PeriodGateOverride.objects.update_or_create(
            period=row, gate=gate, defaults={"reason": reason, "created_by": user}
        )
        audit_bulk(
            user=user,
            model=Period,
            summary=f"豁免 {month_format(row.month)} 关账检查：{GATES[gate]}",
            changes={"账期": month_format(row.month), "检查项": GATES[gate], "原因": reason},
        )
    return override


def period_close(*, user: Any, period: date, force_reason: str | None = None) -> Period:
    """Close a month: every gate green (or overridden); from now on the lock refuses writes.

    `force_reason` (admin only) overrides every red gate with that reason first.
    """
    if not can_close_period(user):
        raise PermissionDenied("无权关账")
    month = month_start(period)
    force_reason = (force_reason or "").strip()
    if force_reason and not can_override_close_gate(user):
        raise PermissionDenied("只有管理员可以强制关账")
    with transaction.atomic():
        red = [g for g in period_gates(user=user, month=month) if not g.is_green]
        if red and force_reason:
            for gate in red:
                period_gate_override(user=user, period=month, gate=gate.key, reason=force_reason)
            red = []
        if red:
            listed = "；".join(f"{g.label}（{g.count} 项未完成）" for g in red)
            raise ValidationError(f"{month_format(month)} 还不能关账：{listed}")
        with set_actor(user):
            row = _period_for_update(month)
            if row.is_closed:
                raise ValidationError(f"{month_format(month)} 已关账")
            row.status = Period.Status.CLOSED
            row.closed_at = timezone.now()
            row.closed_by = user
            row.save()
        audit_bulk(
            user=user,
            model=Period,
            summary=f"关账 {month_format(month)}",
            changes={"账期": month_format(month), "强制原因": force_reason or "—"},
        )
        webhook_emit(
            event="period.closed",
            payload={
                "period": month_format(month),
                "closed_at": row.closed_at,
                "closed_by": getattr(user, "username", ""),
            },
        )
    return row


def period_reopen(*, user: Any, period: date, reason: str) -> Period:
    """Reopen a closed month: admin only, with a reason, audited; ops are notified."""
    if not can_reopen_period(user):
        raise PermissionDenied("只有管理员可以重开已关账的月份")
    reason = _reason(reason)
    month = month_start(period)
    with transaction.atomic(), set_actor(user):
        row = _period_for_update(month)
        if not row.is_closed:
            raise ValidationError(f"{month_format(month)} 没有关账，无需重开")
        now = timezone.now()
        row.status = Period.Status.OPEN
        row.reopened_at = now
        row.reopened_by = user
        row.reopen_reason = reason
        row.save()
        audit_bulk(
            user=user,
            model=Period,
            summary=f"重开 {month_format(month)}",
            changes={"账期": month_format(month), "原因": reason},
        )
        notify(
            recipients=User.objects.filter(role=Role.OPS, is_active=True),
            kind=NotificationKind.PERIOD_REOPENED,
            event_key=f"period_reopened:{month_format(month)}:{now.timestamp():.0f}",
            title=f"{month_format(month)} 已被重开",
            body=f"{getattr(user, 'username', '')} 重开了 {month_format(month)}：{reason}",
            link=reverse("billing:period-close") + f"?period={month_format(month)}",
            obj=row,
        )
    return row


def anomaly_acknowledge(*, user: Any, bill: Bill, reason: str, index: int | None = None) -> Bill:
    """Acknowledge one anomaly of a bill (by position) or all open ones, with a reason."""
    if not can_close_period(user):
        raise PermissionDenied("无权确认异常")
    reason = _reason(reason)
    with transaction.atomic(), set_actor(user):
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        anomalies = [dict(a) for a in bill.anomalies or []]
        if index is not None and not 0 <= index < len(anomalies):
            raise ValidationError("该异常已不存在，请刷新页面")
        ack = {
            "by": getattr(user, "username", ""),
            "reason": reason,
            "at": timezone.now().isoformat(timespec="seconds"),
        }
        targets = [index] if index is not None else range(len(anomalies))
        changed = 0
        for i in targets:
            if not anomalies[i].get("ack"):
                anomalies[i]["ack"] = ack
                changed += 1
        if not changed:
            raise ValidationError("没有待确认的异常")
        bill.anomalies = anomalies
        bill.save(update_fields=["anomalies", "updated_at"])
    return bill


def no_usage_confirm(
    *, user: Any, period: date, customers: list[Customer], reason: str = ""
) -> int:
    """Confirm that these customers had no usage in the month (本月无用量); returns how many."""
    if not can_close_period(user):
        raise PermissionDenied("无权确认无用量")
    month = month_start(period)
    created = 0
    with transaction.atomic(), set_actor(user):
        for customer in customers:
            _, new = NoUsageConfirmation.objects.get_or_create(
                customer=customer,
                month=month,
                defaults={"reason": (reason or "").strip()[:200], "created_by": user},
            )
            created += new
    return created


def receipt_explain(*, user: Any, payment: Payment, reason: str) -> ReceiptExplanation:
    """Say why a receipt stays unallocated (e.g. 预收款), which clears it from the gate."""
    if not can_close_period(user):
        raise PermissionDenied("无权说明收款")
    reason = _reason(reason)
    with transaction.atomic(), set_actor(user):
        explanation, _ = ReceiptExplanation.objects.update_or_create(
            payment=payment, defaults={"reason": reason, "created_by": user}
        )
    return explanation
