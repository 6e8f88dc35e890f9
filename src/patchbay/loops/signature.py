"""The verifier of Loops webhooks: Standard Webhooks signatures (:mod:`patchbay.core.signing`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from patchbay.conf import conf
from patchbay.core.signing import verify_standard_webhook
from patchbay.exceptions import WebhookVerificationError
from patchbay.webhooks.values import event_key
from patchbay.webhooks.verification import VerifiedDelivery, WebhookVerifier

if TYPE_CHECKING:
    from django.http import HttpRequest


#: Signs simulated events when no LOOPS_WEBHOOK_SECRET is configured; public, so it is
#: accepted only while DEBUG is on (see WebhookVerifier.accepts_simulation_secrets).
SIMULATION_SECRET = "whsec_cGF0Y2hiYXktc2ltdWxhdGVkLWxvb3BzLXNlY3JldA=="  # noqa: S105  # nosec B105  # public


class LoopsWebhookVerifier(WebhookVerifier):
    """Verifies ``webhook-id`` / ``-timestamp`` / ``-signature``; ``webhook-id`` is the event id.

    ``tolerance`` (seconds, default :setting:`LOOPS_WEBHOOK_TOLERANCE`) is how
    far the timestamp may be from now, against replays. Without a secret it
    checks :data:`SIMULATION_SECRET` while simulation secrets are accepted.
    """

    simulation_secrets = (SIMULATION_SECRET,)

    def __init__(self, secret: str | None, *, tolerance: int | None = None) -> None:
        self._secret = next(iter(self.secrets_in_force(secret)), None)
        self.tolerance = conf.LOOPS_WEBHOOK_TOLERANCE if tolerance is None else tolerance

    @property
    def signing_secret(self) -> str | None:
        return self._secret

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        if not self._secret:
            raise WebhookVerificationError(
                "LOOPS_WEBHOOK_SECRET is not configured.", error_code="not_configured"
            )
        message_id = request.headers.get("webhook-id", "")
        problem = verify_standard_webhook(
            self._secret,
            message_id,
            request.headers.get("webhook-timestamp", ""),
            body,
            request.headers.get("webhook-signature", ""),
            tolerance=self.tolerance,
        )
        if problem:
            raise WebhookVerificationError(problem)
        try:
            payload = json.loads(body)
        except ValueError:
            raise WebhookVerificationError(
                "The body is not JSON.", error_code="invalid_payload"
            ) from None
        if not isinstance(payload, dict) or not payload.get("eventName"):
            raise WebhookVerificationError(
                "The body is not a Loops event.", error_code="invalid_payload"
            )
        return VerifiedDelivery(
            event_key(message_id, "The event id"),
            event_key(payload["eventName"], "The event type"),
            payload,
        )
