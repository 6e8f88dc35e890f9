"""Twilio's status callback and inbound message endpoints.

Each is verified by its verifier in :mod:`patchbay.twilio.signature`, made
with the secrets configured now.
"""

from __future__ import annotations

from typing import ClassVar

from django.http import HttpResponse

from patchbay.models import WebhookEvent
from patchbay.tenancy import UNSET
from patchbay.twilio.client import TwilioClient
from patchbay.twilio.signature import SIMULATION_AUTH_TOKEN as SIMULATION_AUTH_TOKEN
from patchbay.twilio.signature import (
    InboundMessageVerifier,
    StatusCallbackVerifier,
    TwilioWebhookVerifier,
)
from patchbay.webhooks.views import WebhookView

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _configured_secrets(tenant: object = UNSET) -> tuple[str | None, str | None]:
    """The configured auth token and SharedKey (admin or settings) of ``tenant``."""
    config = TwilioClient(tenant=tenant).config
    token, key = config.get("auth_token"), config.get("webhook_signing_key")
    return (str(token) if token else None), (str(key) if key else None)


def signing_token(signed_with_shared_key: bool, *, tenant: object = UNSET) -> str | None:
    """The secret a webhook is checked with: the SharedKey for HMAC-SHA256, else the auth token.

    Without an auth token, the simulation's while its public secret is accepted
    (``DEBUG`` on); None otherwise, and simulation then delivers no callback.
    """
    token, key = _configured_secrets(tenant)
    return TwilioWebhookVerifier(token, signing_key=key).token_for(signed_with_shared_key)


class TwilioWebhookView(WebhookView):
    """A Twilio endpoint; ``verifier_class`` says which events it receives."""

    provider = "twilio"
    verifier_class: ClassVar[type[TwilioWebhookVerifier]]

    def get_verifier(self) -> TwilioWebhookVerifier:
        # The secrets of the tenant whose endpoint was posted to.
        token, key = _configured_secrets(self.tenant_key)
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
