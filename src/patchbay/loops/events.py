"""Loops webhook events in patchbay's one email-event vocabulary, and suppression.

Suppressions are the current tenant's: an address that bounced for one
tenant's Loops workspace is still emailed by the others.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from patchbay.conf import conf
from patchbay.core.arguments import UNSTORABLE
from patchbay.models import EmailEvent, EmailSuppression, WebhookEvent
from patchbay.signals import email_event_received

# Loops' event names → the normalized kind (events not listed are not email deliveries).
KINDS = {
    "transactional.email.sent": EmailEvent.SENT,
    "campaign.email.sent": EmailEvent.SENT,
    "loop.email.sent": EmailEvent.SENT,
    "email.delivered": EmailEvent.DELIVERED,
    "email.softBounced": EmailEvent.DEFERRED,
    "email.hardBounced": EmailEvent.BOUNCED,
    "email.spamReported": EmailEvent.COMPLAINED,
    "contact.unsubscribed": EmailEvent.UNSUBSCRIBED,
    "email.unsubscribed": EmailEvent.UNSUBSCRIBED,
}


def suppress_on() -> tuple[str, ...]:
    """The kinds that suppress an address (``PATCHBAY_EMAIL_SUPPRESS_ON``)."""
    return conf.EMAIL_SUPPRESS_ON


def is_suppressed(email: str) -> EmailSuppression | None:
    """The suppression of ``email`` (any case, surrounding spaces ignored), if any."""
    address = str(email or "").strip()
    if not address or UNSTORABLE.search(address):
        return None  # never stored, so never suppressed (and PostgreSQL refuses NUL)
    return EmailSuppression.objects.for_tenant().filter(email__iexact=address).first()


def record(event: WebhookEvent) -> EmailEvent | None:
    """Store ``event`` as an EmailEvent (suppressing the address if need be); signal it.

    Once: a replay of a recorded event (``reprocess``) returns its EmailEvent
    and neither suppresses the address again (a suppression deleted since
    stays deleted) nor signals again. Events are kept in the order they
    happened (``occurred_at``), whatever order they arrive in.
    """
    payload: dict[str, Any] = event.payload
    kind = KINDS.get(event.event_type)
    address = (payload.get("contactIdentity") or {}).get("email")
    if kind is None or not address:
        return None
    if event.pk is not None:
        recorded = EmailEvent.objects.filter(webhook_event=event).first()
        if recorded is not None:
            return recorded
    email = payload.get("email") or {}
    stored = EmailEvent.objects.create(
        provider=event.provider,
        email=address,
        kind=kind,
        provider_event=event.event_type,
        message_id=str(email.get("emailMessageId") or email.get("id") or ""),
        template_id=str(payload.get("transactionalId") or ""),
        subject=str(email.get("subject") or "")[:998],
        occurred_at=datetime.fromtimestamp(int(payload.get("eventTime") or 0), tz=timezone.utc),
        webhook_event=event,
    )
    if kind in suppress_on():
        EmailSuppression.objects.for_tenant().get_or_create(
            email=address.lower(), defaults={"reason": kind}
        )
    email_event_received.send(sender="loops", event=stored)
    return stored
