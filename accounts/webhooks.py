"""Channels beyond email: team group robots (DingTalk, WeCom) and signed webhooks to outside systems.

Every post is a WebhookDelivery row first (the log), then a Celery task that
sends it and retries with backoff; an admin can replay any delivery by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import (
    Notification,
    TeamChannel,
    User,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

SIGNATURE_HEADER = "X-OPCMS-Signature"
EVENT_HEADER = "X-OPCMS-Event"
DELIVERY_HEADER = "X-OPCMS-Delivery"


def body_signature(*, secret: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the subscription's secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def dingtalk_signed_url(*, url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    if not secret:
        return url
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(mac))
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp}&sign={sign}"


def robot_message(*, provider: str, title: str, text: str) -> dict[str, Any]:
    """The markdown message each robot API expects."""
    if provider == TeamChannel.Provider.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


# --- producers -----------------------------------------------------------------


def _enqueue(delivery: WebhookDelivery) -> None:
    _enqueue_many([delivery])


def _enqueue_many(deliveries: list[WebhookDelivery]) -> None:
    """One after-commit callback queues every delivery's task (a rollback sends none)."""
    from .tasks import webhook_deliver_task

    if not deliveries:
        return
    ids = [d.pk for d in deliveries]

    def send() -> None:
        for pk in ids:
            webhook_deliver_task.delay(pk)

    transaction.on_commit(send)


def channels_post_for(*, notifications: list[Notification]) -> list[WebhookDelivery]:
    """Post new notifications to the robots of their recipients' teams, once per team and event."""
    return channels_post_many(events=[notifications])


def channels_post_many(*, events: list[list[Notification]]) -> list[WebhookDelivery]:
    """`channels_post_for` for many events (each the notifications one event created), with
    the recipients' teams and the robots read once for the whole batch."""
    from .notifications import absolute_url

    events = [e for e in events if e]
    recipient_ids = {n.recipient_id for e in events for n in e}
    if not recipient_ids:
        return []
    team_of = dict(
        User.objects.filter(pk__in=recipient_ids, team__isnull=False).values_list("pk", "team_id")
    )
    if not team_of:
        return []
    channels: dict[int, list[TeamChannel]] = {}
    for channel in TeamChannel.objects.filter(
        team_id__in=set(team_of.values()), enabled=True
    ).order_by("pk"):
        channels.setdefault(channel.team_id, []).append(channel)
    deliveries = []
    for notifications in events:
        team_ids = {team_of[n.recipient_id] for n in notifications if n.recipient_id in team_of}
        if not team_ids:
            continue
        first = notifications[0]
        text = f"**{first.title}**\n\n{first.body}"
        if first.link:
            text += f"\n\n[查看]({absolute_url(first.link)})"
        for channel in sorted(
            (c for t in team_ids for c in channels.get(t, [])), key=lambda c: c.pk
        ):
            if channel.kinds and first.kind not in channel.kinds:
                continue
            message = robot_message(provider=channel.provider, title=first.title, text=text)
            deliveries.append(
                WebhookDelivery(
                    channel=channel, event=f"notification.{first.kind}", body=json.dumps(message)
                )
            )
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
    _enqueue_many(deliveries)
    return deliveries


def webhook_emit(*, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Send `event` to every enabled subscription that asked for it (after commit)."""
    return webhook_emit_many(event=event, payloads=[payload])


def webhook_emit_many(*, event: str, payloads: list[dict[str, Any]]) -> list[WebhookDelivery]:
    """`webhook_emit` for many occurrences of one event: the subscriptions are read once and the
    deliveries (one per payload and subscriber, each its own signed post) written in one insert."""
    if event not in WebhookEvent.values:
        raise ValueError(f"unknown webhook event {event!r}")
    if not payloads:
        return []
    subscribers = [
        sub
        for sub in WebhookSubscription.objects.filter(enabled=True).order_by("pk")
        if event in (sub.events or [])
    ]
    deliveries = []
    for payload in payloads:
        for sub in subscribers:
            body = json.dumps(
                {"event": event, "sent_at": timezone.now(), "data": payload},
                cls=DjangoJSONEncoder,
                ensure_ascii=False,
            )
            deliveries.append(WebhookDelivery(subscription=sub, event=event, body=body))
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
    _enqueue_many(deliveries)
    return deliveries


# --- delivery ------------------------------------------------------------------


class DeliveryFailed(Exception):
    """A post answered with a non-2xx code or could not be made; the task retries it."""


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery:
    """POST one delivery and log the outcome; raises DeliveryFailed so the task can retry."""
    delivery = WebhookDelivery.objects.select_related("subscription", "channel").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.SUCCEEDED:
        return delivery
    body = delivery.body.encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "OP_CMS"}
    if delivery.subscription is not None:
        url = delivery.subscription.url
        headers[SIGNATURE_HEADER] = body_signature(secret=delivery.subscription.secret, body=body)
        headers[EVENT_HEADER] = delivery.event
        headers[DELIVERY_HEADER] = str(delivery.pk)
    else:
        channel = delivery.channel
        url = channel.webhook_url
        if channel.provider == TeamChannel.Provider.DINGTALK:
            url = dingtalk_signed_url(url=url, secret=channel.secret)
    delivery.attempts += 1
    code, error = _post(url=url, body=body, headers=headers)
    delivery.response_code = code
    delivery.last_error = error[:500]
    if code is not None and 200 <= code < 300:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = timezone.now()
    else:
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(
        update_fields=["attempts", "response_code", "last_error", "status", "delivered_at"]
    )
    if delivery.status == WebhookDelivery.Status.FAILED:
        raise DeliveryFailed(f"delivery {delivery.pk}: {code or error}")
    return delivery


def _post(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    if not url.startswith(("http://", "https://")):
        return None, "地址必须以 http:// 或 https:// 开头"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(  # noqa: S310 (scheme checked above)
            request, timeout=settings.OPCMS_WEBHOOK_TIMEOUT
        ) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc.reason)
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))


def webhook_replay(*, user: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again by hand (after an outside system was fixed); audited."""
    from auditlog.context import set_actor

    from .roles import is_admin

    if not is_admin(user):
        raise ValidationError("只有管理员可以重发 Webhook")
    with set_actor(user):
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.save(update_fields=["status"])
    _enqueue(delivery)
    return delivery
