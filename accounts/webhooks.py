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
    from .tasks import webhook_deliver_task

    transaction.on_commit(lambda: webhook_deliver_task.delay(delivery.pk))


def channels_post_for(*, notifications: list[Notification]) -> list[WebhookDelivery]:
    """Post new notifications to the robots of their recipients' teams, once per team and event."""
    from .notifications import absolute_url

    recipient_ids = {n.recipient_id for n in notifications}
    team_ids = set(
        User.objects.filter(pk__in=recipient_ids, team__isnull=False).values_list(
            "team_id", flat=True
        )
    )
    if not team_ids:
        return []
    first = notifications[0]
    text = f"**{first.title}**\n\n{first.body}"
    if first.link:
        text += f"\n\n[查看]({absolute_url(first.link)})"
    deliveries = []
    for channel in TeamChannel.objects.filter(team_id__in=team_ids, enabled=True):
        if channel.kinds and first.kind not in channel.kinds:
            continue
        message = robot_message(provider=channel.provider, title=first.title, text=text)
        delivery = WebhookDelivery.objects.create(
            channel=channel, event=f"notification.{first.kind}", body=json.dumps(message)
        )
        _enqueue(delivery)
        deliveries.append(delivery)
    return deliveries


def webhook_emit(*, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Send `event` to every enabled subscription that asked for it (after commit)."""
    if event not in WebhookEvent.values:
        raise ValueError(f"unknown webhook event {event!r}")
    deliveries = []
    for sub in WebhookSubscription.objects.filter(enabled=True):
        if event not in (sub.events or []):
            continue
        body = json.dumps(
            {"event": event, "sent_at": timezone.now(), "data": payload},
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
        )
        delivery = WebhookDelivery.objects.create(subscription=sub, event=event, body=body)
        _enqueue(delivery)
        deliveries.append(delivery)
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
