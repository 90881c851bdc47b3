"""Celery tasks of accounts: housekeeping, notification email, digest, webhooks."""

from celery import shared_task
from django.conf import settings

from .notifications import notification_email_send
from .services import jobs_purge_files
from .webhooks import DeliveryFailed, webhook_deliver


@shared_task(name="accounts.jobs_purge_files")
def jobs_purge_files_task(days: int = 30) -> int:
    return jobs_purge_files(older_than_days=days)


@shared_task(name="accounts.notification_email", autoretry_for=(OSError,), max_retries=3)
def notification_email_task(notification_id: int) -> bool:
    return notification_email_send(notification_id=notification_id)


@shared_task(name="accounts.notifications_digest")
def notifications_digest_task() -> int:
    from .schedules import schedule_digest_run

    return schedule_digest_run()


@shared_task(bind=True, name="accounts.webhook_deliver")
def webhook_deliver_task(self, delivery_id: int) -> None:
    """Deliver one post; on failure retry after 30 s, 60 s, 120 s … (the log keeps each outcome)."""
    try:
        webhook_deliver(delivery_id=delivery_id)
    except DeliveryFailed as exc:
        if self.request.retries >= settings.OPCMS_WEBHOOK_MAX_RETRIES:
            return
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
