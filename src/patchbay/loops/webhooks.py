"""The Loops webhook endpoint, ``patchbay:loops-webhook`` (Standard Webhooks signatures)."""

from __future__ import annotations

from patchbay.loops.client import LoopsClient
from patchbay.loops.signature import SIMULATION_SECRET as SIMULATION_SECRET
from patchbay.loops.signature import LoopsWebhookVerifier
from patchbay.tenancy import UNSET
from patchbay.webhooks.views import WebhookView


def webhook_verifier(tenant: object = UNSET) -> LoopsWebhookVerifier:
    """The verifier of ``tenant``'s ``LOOPS_WEBHOOK_SECRET`` (admin or settings)."""
    secret = LoopsClient(tenant=tenant).config.get("webhook_secret")
    return LoopsWebhookVerifier(str(secret) if secret else None)


def webhook_secret(tenant: object = UNSET) -> str | None:
    """The secret deliveries are checked (and simulated ones signed) with, if any.

    The configured one; without it, the simulation's while its public secret is
    accepted (``DEBUG`` on); None otherwise, and simulation then delivers nothing.
    """
    return webhook_verifier(tenant).signing_secret


class LoopsWebhookView(WebhookView):
    """Verified by :class:`~patchbay.loops.signature.LoopsWebhookVerifier`."""

    provider = "loops"

    def get_verifier(self) -> LoopsWebhookVerifier:
        # The secret of the tenant whose endpoint was posted to.
        return webhook_verifier(self.tenant_key)
