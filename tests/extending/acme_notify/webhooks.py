"""Acme Notify's webhook endpoint: HMAC-SHA256 of the raw body, checked in constant time."""

from __future__ import annotations

import json

from django.http import HttpRequest

from patchbay.core.signing import verify_hmac_sha256
from patchbay.webhooks import VerifiedDelivery, WebhookVerificationError
from patchbay.webhooks.views import WebhookView
from tests.extending.acme_notify.client import AcmeNotifyClient

SIGNATURE_HEADER = "X-Acme-Signature"
SIGNATURE_PREFIX = "sha256="


class AcmeNotifyWebhookView(WebhookView):
    """Receives Acme Notify events; the base view stores, dispatches and answers."""

    provider = "acme_notify"

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        secret = AcmeNotifyClient().config.get("webhook_secret")
        if not secret:
            raise WebhookVerificationError("Acme Notify webhooks are not configured.")
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise WebhookVerificationError(f"Missing {SIGNATURE_HEADER} header.")
        if not verify_hmac_sha256(secret, body, signature, prefix=SIGNATURE_PREFIX):
            raise WebhookVerificationError(f"Invalid {SIGNATURE_HEADER} signature.")
        try:
            event = json.loads(body)
            return VerifiedDelivery(str(event["id"]), str(event["type"]), payload=event)
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookVerificationError("The body is not an Acme Notify event.") from exc
