"""The Stripe webhook endpoint, ``patchbay:stripe-webhook``."""

from __future__ import annotations

from patchbay.stripe.client import StripeClient
from patchbay.stripe.signature import StripeWebhookVerifier
from patchbay.webhooks.views import WebhookView


class StripeWebhookView(WebhookView):
    """Verified by :class:`~patchbay.stripe.signature.StripeWebhookVerifier`."""

    provider = "stripe"

    def get_verifier(self) -> StripeWebhookVerifier:
        # The secret of the tenant whose endpoint was posted to: another's signature fails.
        return StripeClient(tenant=self.tenant_key).webhook_verifier()
