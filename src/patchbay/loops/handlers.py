"""patchbay's own Loops webhook handler: every event is normalized and stored."""

from __future__ import annotations

from patchbay.loops.events import KINDS, record
from patchbay.models import WebhookEvent
from patchbay.webhooks.registry import builtin_receiver


@builtin_receiver("loops", *KINDS)
def email_event(event: WebhookEvent) -> None:
    record(event)
