"""Acme Notify's webhooks: HMAC-SHA256 of the raw body, checked in constant time."""

from __future__ import annotations

import json

from django.http import HttpRequest

from patchbay.core.signing import verify_hmac_sha256
from patchbay.webhooks import (
    VerifiedDelivery,
    WebhookVerificationError,
    WebhookVerifier,
    WebhookView,
)
from tests.extending.acme_notify.client import AcmeNotifyClient

SIGNATURE_HEADER = "X-Acme-Signature"
SIGNATURE_PREFIX = "sha256="


class AcmeNotifyVerifier(WebhookVerifier):
    """Checks that Acme Notify signed the body with ``secret``, and reads the event."""

    def __init__(self, secret: str | None) -> None:
        self._secret = secret

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        if not self._secret:
            raise WebhookVerificationError(
                "Acme Notify webhooks are not configured.", error_code="not_configured"
            )
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise WebhookVerificationError(f"Missing {SIGNATURE_HEADER} header.")
        if not verify_hmac_sha256(self._secret, body, signature, prefix=SIGNATURE_PREFIX):
            raise WebhookVerificationError(f"Invalid {SIGNATURE_HEADER} signature.")
        try:
            event = json.loads(body)
            return VerifiedDelivery(str(event["id"]), str(event["type"]), payload=event)
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookVerificationError(
                "The body is not an Acme Notify event.", error_code="invalid_payload"
            ) from exc


class AcmeNotifyWebhookView(WebhookView):
    """Receives Acme Notify events; the base view stores, dispatches and answers."""

    provider = "acme_notify"

    def get_verifier(self) -> AcmeNotifyVerifier:
        # Made per delivery: a secret changed in the admin applies to the next one.
        return AcmeNotifyVerifier(AcmeNotifyClient().config.get("webhook_secret"))
