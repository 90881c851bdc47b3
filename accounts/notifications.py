"""Notifications: one `notify` for every kind; inbox rows, immediate email and the daily digest.

Producers live in the app that owns the event and call `notify`; they choose the
recipients (within the customer's scope) and a stable event key, so the unique
(recipient, event_key) constraint makes every event arrive once however often a
scan runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from .models import EmailMode, Notification, NotificationKind, NotificationPreference, User

# What a user gets for a kind until they change it: everything in the inbox, and
# email straight away (the company's 24-hour follow-up target needs the push).
DEFAULT_IN_APP = True
DEFAULT_EMAIL = EmailMode.IMMEDIATE


@dataclass
class NotifyResult:
    created: list[Notification] = field(default_factory=list)
    emails: int = 0  # immediate emails queued for after commit


@dataclass(frozen=True)
class Preference:
    in_app: bool
    email: str


def absolute_url(link: str) -> str:
    """`/billing/bills/1/` → `https://opcms.example.com/billing/bills/1/` (emails have no request)."""
    if not link or link.startswith(("http://", "https://")):
        return link
    return settings.SITE_URL + link


def preferences_for(users: Iterable[User], kind: str) -> dict[int, Preference]:
    """Each user's preference for `kind`, the defaults where they set none."""
    ids = [u.pk for u in users]
    stored = {
        p.user_id: Preference(in_app=p.in_app, email=p.email)
        for p in NotificationPreference.objects.filter(user_id__in=ids, kind=kind)
    }
    default = Preference(in_app=DEFAULT_IN_APP, email=DEFAULT_EMAIL)
    return {pk: stored.get(pk, default) for pk in ids}


@dataclass(frozen=True)
class NotifyEvent:
    """One event for `notify_many`: the same arguments as `notify`."""

    recipients: tuple[User | None, ...]
    kind: str
    event_key: str
    title: str
    body: str = ""
    link: str = ""
    obj: object | None = None


def notify(
    *,
    recipients: Iterable[User | None],
    kind: str,
    event_key: str,
    title: str,
    body: str = "",
    link: str = "",
    obj: object | None = None,
) -> NotifyResult:
    """Tell each recipient about one event, once: an inbox row, and an email if they want one.

    A recipient who already has `event_key` gets nothing again. Immediate emails
    and group-robot posts leave after the surrounding transaction commits, so a
    rolled-back event sends nothing.
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    result = NotifyResult()
    if not users:
        return result
    prefs = preferences_for(users.values(), kind)
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(getattr(obj, "pk", "") or "")
    for user in users.values():
        pref = prefs[user.pk]
        email_mode = pref.email if user.email else EmailMode.OFF
        # get_or_create runs in a savepoint: a concurrent scan that wrote the same
        # (recipient, event_key) first makes this one a no-op, not an error.
        notification, created = Notification.objects.get_or_create(
            recipient=user,
            event_key=event_key[:120],
            defaults={
                "kind": kind,
                "title": title[:200],
                "body": body,
                "link": link,
                "object_type": object_type,
                "object_id": object_id,
                "in_inbox": pref.in_app,
                "email_mode": email_mode,
            },
        )
        if not created:
            continue
        result.created.append(notification)
        if email_mode == EmailMode.IMMEDIATE:
            result.emails += 1
            _send_after_commit(notification.pk)
    if result.created:
        from .webhooks import channels_post_for  # channels import notifications' helpers

        channels_post_for(notifications=result.created)
    return result


def notify_many(events: list[NotifyEvent]) -> NotifyResult:
    """`notify` for a batch of events (a file of payments): the same rows, emails and robot
    posts, with the preferences, the rows already sent, the inserts and the robots each one
    query for the whole batch instead of several per event and recipient."""
    result = NotifyResult()
    wanted: list[tuple[NotifyEvent, User]] = []
    seen: set[tuple[int, str]] = set()
    for event in events:
        if event.kind not in NotificationKind.values:
            raise ValueError(f"unknown notification kind {event.kind!r}")
        for user in event.recipients:
            if user is None or not user.is_active:
                continue
            key = (user.pk, event.event_key[:120])
            if key in seen:  # the same person and event twice in the batch: once, as notify
                continue
            seen.add(key)
            wanted.append((event, user))
    if not wanted:
        return result
    user_ids = {u.pk for _, u in wanted}
    stored = {
        (p.user_id, p.kind): Preference(in_app=p.in_app, email=p.email)
        for p in NotificationPreference.objects.filter(
            user_id__in=user_ids, kind__in={e.kind for e, _ in wanted}
        )
    }
    default = Preference(in_app=DEFAULT_IN_APP, email=DEFAULT_EMAIL)
    already = set(
        Notification.objects.filter(
            recipient_id__in=user_ids, event_key__in={k for _, k in seen}
        ).values_list("recipient_id", "event_key")
    )
    rows: list[tuple[NotifyEvent, Notification]] = []
    for event, user in wanted:
        key = event.event_key[:120]
        if (user.pk, key) in already:
            continue
        pref = stored.get((user.pk, event.kind), default)
        obj = event.obj
        rows.append(
            (
                event,
                Notification(
                    recipient=user,
                    event_key=key,
                    kind=event.kind,
                    title=event.title[:200],
                    body=event.body,
                    link=event.link,
                    object_type=obj._meta.label_lower if obj is not None else "",
                    object_id=str(getattr(obj, "pk", "") or ""),
                    in_inbox=pref.in_app,
                    email_mode=pref.email if user.email else EmailMode.OFF,
                ),
            )
        )
    if not rows:
        return result
    try:
        with transaction.atomic():  # a savepoint, as get_or_create's
            Notification.objects.bulk_create([n for _, n in rows], batch_size=1000)
    except IntegrityError:
        # A concurrent scan wrote one of these events first: fall back to one at a time,
        # where each such row is the no-op it is in `notify`.
        for event in events:
            partial = notify(
                recipients=event.recipients,
                kind=event.kind,
                event_key=event.event_key,
                title=event.title,
                body=event.body,
                link=event.link,
                obj=event.obj,
            )
            result.created.extend(partial.created)
            result.emails += partial.emails
        return result
    by_event: dict[int, list[Notification]] = {}
    for event, notification in rows:
        result.created.append(notification)
        by_event.setdefault(id(event), []).append(notification)
        if notification.email_mode == EmailMode.IMMEDIATE:
            result.emails += 1
            _send_after_commit(notification.pk)
    from .webhooks import channels_post_many  # channels import notifications' helpers

    channels_post_many(events=list(by_event.values()))
    return result


def _send_after_commit(notification_id: int) -> None:
    from .tasks import notification_email_task

    transaction.on_commit(lambda: notification_email_task.delay(notification_id))


def _email_text(items: list[Notification]) -> str:
    parts = []
    for n in items:
        lines = [f"【{n.get_kind_display()}】{n.title}"]
        if n.body:
            lines.append(n.body)
        if n.link:
            lines.append(f"查看：{absolute_url(n.link)}")
        parts.append("\n".join(lines))
    footer = f"\n\n—— OP_CMS 客户运营系统\n通知设置：{absolute_url(reverse('accounts:notification-preferences'))}"
    return "\n\n".join(parts) + footer


def notification_email_send(*, notification_id: int) -> bool:
    """Send one immediate email; False when it was already sent (a retried task sends once)."""
    with transaction.atomic():
        n = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if n is None or not n.recipient.email:
            return False
        EmailMessage(
            subject=f"[OP_CMS] {n.title}",
            body=_email_text([n]),
            to=[n.recipient.email],
        ).send()
        n.emailed_at = timezone.now()
        n.save(update_fields=["emailed_at"])
    return True


def digest_recipients_pending() -> int:
    """How many people the next digest would email."""
    return (
        Notification.objects.filter(
            email_mode=EmailMode.DIGEST, emailed_at__isnull=True, recipient__email__gt=""
        )
        .values("recipient_id")
        .distinct()
        .count()
    )


def notifications_digest_send(*, now=None) -> int:
    """One email per person with every digest item not yet mailed; returns emails sent.

    Safe to run twice: items are marked as mailed in the same transaction that
    sends them, so a second run finds nothing.
    """
    now = now or timezone.now()
    sent = 0
    pending = (
        Notification.objects.filter(
            email_mode=EmailMode.DIGEST, emailed_at__isnull=True, created_at__lte=now
        )
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    connection = get_connection()
    for recipient_id in list(pending):
        with transaction.atomic():
            items = list(
                Notification.objects.select_for_update()
                .select_related("recipient")
                .filter(
                    recipient_id=recipient_id,
                    email_mode=EmailMode.DIGEST,
                    emailed_at__isnull=True,
                    created_at__lte=now,
                )
                .order_by("created_at", "id")
            )
            if not items or not items[0].recipient.email:
                continue
            user = items[0].recipient
            day = timezone.localdate(now)
            EmailMessage(
                subject=f"[OP_CMS] {day:%Y-%m-%d} 每日通知汇总（{len(items)} 条）",
                body=f"{user.display_name}，您好！以下是今天的 {len(items)} 条通知：\n\n"
                + _email_text(items),
                to=[user.email],
                connection=connection,
            ).send()
            Notification.objects.filter(pk__in=[n.pk for n in items]).update(emailed_at=now)
            sent += 1
    return sent


# --- inbox -------------------------------------------------------------------


def notification_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all unread when no ids are given); returns how many."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


def notification_preferences_save(*, user: User, choices: dict[str, tuple[bool, str]]) -> None:
    """Store the user's per-kind choices: kind → (in_app, email mode)."""
    for kind, (in_app, email) in choices.items():
        if kind not in NotificationKind.values or email not in EmailMode.values:
            continue
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"in_app": in_app, "email": email}
        )
