"""The Loops webhook endpoint, ``patchbay:loops-webhook`` (Standard Webhooks signatures)."""

from __future__ import annotations

import json

from django.http import HttpRequest

from patchbay.conf import conf
from patchbay.core.signing import verify_standard_webhook
from patchbay.core.simulation import should_simulate
from patchbay.exceptions import WebhookVerificationError
from patchbay.loops.client import LoopsClient
from patchbay.webhooks import VerifiedDelivery
from patchbay.webhooks.views import WebhookView

#: Signs simulated events when no LOOPS_WEBHOOK_SECRET is configured.
SIMULATION_SECRET = "whsec_cGF0Y2hiYXktc2ltdWxhdGVkLWxvb3BzLXNlY3JldA=="  # noqa: S105 (public)


def webhook_secret() -> str | None:
    secret = LoopsClient().config.get("webhook_secret")
    if secret:
        return str(secret)
    return SIMULATION_SECRET if should_simulate() else None


class LoopsWebhookView(WebhookView):
    """Verifies ``webhook-id`` / ``-timestamp`` / ``-signature``; ``webhook-id`` is the event id."""

    provider = "loops"

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        secret = webhook_secret()
        if not secret:
            raise WebhookVerificationError("LOOPS_WEBHOOK_SECRET is not configured.")
        message_id = request.headers.get("webhook-id", "")
        problem = verify_standard_webhook(
            secret,
            message_id,
            request.headers.get("webhook-timestamp", ""),
            body,
            request.headers.get("webhook-signature", ""),
            tolerance=conf.LOOPS_WEBHOOK_TOLERANCE,
        )
        if problem:
            raise WebhookVerificationError(problem)
        payload = json.loads(body)
        if not isinstance(payload, dict) or not payload.get("eventName"):
            raise WebhookVerificationError("The body is not a Loops event.")
        return VerifiedDelivery(message_id, str(payload["eventName"]), payload)
