"""patchbay's own Loops webhook handler: every event is normalized and stored.

The fields stored are read through :mod:`patchbay.webhooks.shape` first: a
field of the wrong type or too long for its column makes the event
malformed, never a crash the provider would retry.
"""

from __future__ import annotations

from patchbay.loops.events import KINDS, record
from patchbay.models import WebhookEvent
from patchbay.webhooks import shape
from patchbay.webhooks.registry import builtin_receiver

EMAIL_LENGTH = 254  # EmailField
ID_LENGTH = 255  # EmailEvent.message_id and template_id


def _check(payload: dict[str, object]) -> None:
    """Refuse an event whose fields ``events.record`` cannot store."""
    identity = shape.optional_object(payload, "contactIdentity")
    shape.text(identity, "email", "contactIdentity", max_length=EMAIL_LENGTH)
    email = shape.optional_object(payload, "email")
    shape.text(email, "emailMessageId", "email", max_length=ID_LENGTH)
    shape.text(email, "id", "email", max_length=ID_LENGTH)
    shape.text(email, "subject", "email")
    shape.text(payload, "transactionalId", max_length=ID_LENGTH)
    shape.timestamp(payload, "eventTime")


@builtin_receiver("loops", *KINDS)
def email_event(event: WebhookEvent) -> None:
    _check(event.payload)
    record(event)
