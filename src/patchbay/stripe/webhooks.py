"""The Stripe webhook endpoint, ``patchbay:stripe-webhook``."""

from __future__ import annotations

from django.http import HttpRequest

from patchbay.exceptions import WebhookVerificationError
from patchbay.stripe.client import StripeClient
from patchbay.webhooks import VerifiedDelivery
from patchbay.webhooks.views import WebhookView


class StripeWebhookView(WebhookView):
    """Verifies ``Stripe-Signature`` with the SDK; the event id makes delivery idempotent."""

    provider = "stripe"

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        result = StripeClient().verify_webhook_signature(
            body, request.headers.get("Stripe-Signature")
        )
        if not result["success"]:
            raise WebhookVerificationError(result["error"])
        event = result["event"]
        return VerifiedDelivery(
            event_id=str(event["id"]), event_type=str(event["type"]), payload=event
        )
