"""Twilio's status callback and inbound message endpoints, verified as Twilio signs.

The SDK's ``RequestValidator`` verifies when the SDK is installed, else
:mod:`patchbay.twilio.signature`, the same scheme.

Twilio signs the full URL it requested. Behind a proxy that URL is not what
Django sees unless ``PATCHBAY_PUBLIC_URL`` is set (or Django is told to trust
the proxy's headers), the most common cause of refused Twilio webhooks.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse, QueryDict

from patchbay.conf import conf
from patchbay.core.sdk import sdk_available
from patchbay.core.simulation import should_simulate
from patchbay.exceptions import WebhookVerificationError
from patchbay.models import WebhookEvent
from patchbay.twilio import signature as twilio_signature
from patchbay.twilio.client import TwilioClient
from patchbay.webhooks import VerifiedDelivery
from patchbay.webhooks.views import WebhookView

#: Signs simulated callbacks when no TWILIO_AUTH_TOKEN is configured.
SIMULATION_AUTH_TOKEN = "patchbay-simulated-twilio-token"  # noqa: S105 (public by design)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url(request: HttpRequest) -> str:
    """The URL Twilio requested: ``PATCHBAY_PUBLIC_URL`` + path, else what Django trusts."""
    if conf.PUBLIC_URL:
        return conf.PUBLIC_URL + request.get_full_path()
    return request.build_absolute_uri()


def signing_token(signed_with_shared_key: bool) -> str | None:
    """The secret a webhook is signed with: the SharedKey for HMAC-SHA256, else the auth token."""
    config = TwilioClient().config
    if signed_with_shared_key and config.get("webhook_signing_key"):
        return str(config["webhook_signing_key"])
    token = config.get("auth_token")
    if token:
        return str(token)
    return SIMULATION_AUTH_TOKEN if should_simulate() else None


def _validate(
    token: str, url: str, params: QueryDict, signature: str, settings_header: str | None
) -> bool:
    """The SDK's ``RequestValidator`` if installed, else patchbay's own (no SDK needed)."""
    if sdk_available("twilio"):
        from twilio.request_validator import RequestValidator, get_signature_algorithm

        algorithm = get_signature_algorithm(settings_header)
        return bool(RequestValidator(token).validate(url, params, signature, algorithm))
    algorithm = twilio_signature.signature_algorithm(settings_header)
    return twilio_signature.validate(token, url, params, signature, algorithm)


class TwilioWebhookView(WebhookView):
    """Shared verification of Twilio's form-encoded, URL-signed webhooks."""

    provider = "twilio"
    event_type: ClassVar[str] = ""

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            raise WebhookVerificationError("Missing X-Twilio-Signature header.")
        settings_header = request.headers.get("X-Twilio-Webhooks-Signature-Settings")
        token = signing_token(bool(settings_header))
        if not token:
            raise WebhookVerificationError("TWILIO_AUTH_TOKEN is not configured.")
        params = QueryDict(body.decode("utf-8"))
        if not _validate(token, public_url(request), params, signature, settings_header):
            raise WebhookVerificationError("Invalid Twilio signature for this URL.")
        payload = {key: params.get(key) for key in params}
        return self.delivery(payload)

    def delivery(self, payload: dict[str, Any]) -> VerifiedDelivery:
        raise NotImplementedError


class StatusCallbackView(TwilioWebhookView):
    """``patchbay:twilio-status-callback``: one event per message and status."""

    def delivery(self, payload: dict[str, Any]) -> VerifiedDelivery:
        sid, status = payload.get("MessageSid"), payload.get("MessageStatus")
        if not sid or not status:
            raise WebhookVerificationError("MessageSid and MessageStatus are required.")
        return VerifiedDelivery(f"{sid}:{status}", "message.status", payload)


class InboundMessageView(TwilioWebhookView):
    """``patchbay:twilio-inbound``: stores the message and answers empty TwiML."""

    def delivery(self, payload: dict[str, Any]) -> VerifiedDelivery:
        sid = payload.get("MessageSid") or payload.get("SmsSid")
        if not sid or not payload.get("From"):
            raise WebhookVerificationError("MessageSid and From are required.")
        return VerifiedDelivery(str(sid), "message.received", payload)

    def respond(self, event: WebhookEvent, outcome: str) -> HttpResponse:
        if outcome == WebhookEvent.Status.FAILED:
            return super().respond(event, outcome)
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")
