"""Store each event once, run its handlers, record the outcome."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from patchbay.models import WebhookEvent
from patchbay.signals import webhook_received
from patchbay.webhooks.registry import VerifiedDelivery, handlers_for

logger = logging.getLogger("patchbay.webhooks")

DUPLICATE = "duplicate"
_DONE = {WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED}


def process_delivery(
    provider: str,
    delivery: VerifiedDelivery,
    then: Callable[[WebhookEvent, str], object] | None = None,
) -> tuple[WebhookEvent, str]:
    """Store ``delivery`` and process it unless it was already processed.

    Returns the event and the outcome: a WebhookEvent status or ``"duplicate"``.
    The row lock makes concurrent deliveries of one event wait for each other,
    so handlers run once. ``then(event, outcome)`` runs last in the same
    transaction: the view stores its IntegrationLog row there, so a delivery
    costs one commit (a flush to disk), not two.
    """
    with transaction.atomic():
        event, created = WebhookEvent.objects.select_for_update().get_or_create(
            provider=provider,
            event_id=delivery.event_id,
            defaults={
                "event_type": delivery.event_type,
                "payload": delivery.payload,
                "verified": True,
            },
        )
        if not created and event.status in _DONE:
            outcome = DUPLICATE
        else:
            if not created:  # a redelivery after a failure carries the current payload
                event.payload = delivery.payload
            run_handlers(event)
            outcome = event.status
        if then is not None:
            then(event, outcome)
    return event, outcome


def run_handlers(event: WebhookEvent) -> None:
    """Dispatch ``event`` and save its new status; handler errors are kept, not raised."""
    event.attempts += 1
    try:
        # A savepoint: a failing handler's writes are undone, the FAILED status is kept.
        with transaction.atomic():
            handled = dispatch(event)
    except Exception as exc:
        logger.exception("Handler failed for %s event %s", event.provider, event.event_id)
        event.status = WebhookEvent.Status.FAILED
        event.error = f"{type(exc).__name__}: {exc}"[:5000]
    else:
        event.status = WebhookEvent.Status.PROCESSED if handled else WebhookEvent.Status.IGNORED
        event.error = ""
        event.processed_at = timezone.now()
    event.save(
        update_fields=["payload", "status", "error", "attempts", "processed_at", "updated_at"]
    )


def dispatch(event: WebhookEvent) -> bool:
    """Run registered handlers and signal receivers; whether anything handled it."""
    handlers = handlers_for(event.provider, event.event_type)
    for handler in handlers:
        handler(event)
    # Interned so receivers connected with sender="stripe" match a provider read from the DB.
    responses = webhook_received.send(sender=sys.intern(event.provider), event=event)
    return bool(handlers or responses)


def reprocess(event: WebhookEvent) -> str:
    """Run ``event``'s handlers again, whatever its status; returns the new status."""
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        run_handlers(locked)
    return locked.status
