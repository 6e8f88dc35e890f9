"""Twilio's status callback and inbound message endpoints.

Each is verified by its verifier in :mod:`patchbay.twilio.signature`, made
with the secrets configured now.
"""

from __future__ import annotations

from typing import ClassVar

from django.http import HttpResponse

from patchbay.core.simulation import should_simulate
from patchbay.models import WebhookEvent
from patchbay.twilio.client import TwilioClient
from patchbay.twilio.signature import (
    InboundMessageVerifier,
    StatusCallbackVerifier,
    TwilioWebhookVerifier,
)
from patchbay.webhooks.views import WebhookView

#: Signs simulated callbacks when no TWILIO_AUTH_TOKEN is configured.
SIMULATION_AUTH_TOKEN = "patchbay-simulated-twilio-token"  # noqa: S105  # nosec B105  # public
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signing_secrets() -> tuple[str | None, str | None]:
    """The auth token (the simulation's while simulating without one), and the SharedKey."""
    config = TwilioClient().config
    token = config.get("auth_token") or (SIMULATION_AUTH_TOKEN if should_simulate() else None)
    key = config.get("webhook_signing_key")
    return (str(token) if token else None), (str(key) if key else None)


def signing_token(signed_with_shared_key: bool) -> str | None:
    """The secret a webhook is signed with: the SharedKey for HMAC-SHA256, else the auth token."""
    token, key = _signing_secrets()
    return key if signed_with_shared_key and key else token


class TwilioWebhookView(WebhookView):
    """A Twilio endpoint; ``verifier_class`` says which events it receives."""

    provider = "twilio"
    verifier_class: ClassVar[type[TwilioWebhookVerifier]]

    def get_verifier(self) -> TwilioWebhookVerifier:
        token, key = _signing_secrets()
        return self.verifier_class(token, signing_key=key)


class StatusCallbackView(TwilioWebhookView):
    """``patchbay:twilio-status-callback``: one event per message and status."""

    verifier_class = StatusCallbackVerifier


class InboundMessageView(TwilioWebhookView):
    """``patchbay:twilio-inbound``: stores the message and answers empty TwiML."""

    verifier_class = InboundMessageVerifier

    def respond(self, event: WebhookEvent, outcome: str) -> HttpResponse:
        if outcome == WebhookEvent.Status.FAILED:
            return super().respond(event, outcome)
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")
