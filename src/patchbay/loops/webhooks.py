"""The Loops webhook endpoint, ``patchbay:loops-webhook`` (Standard Webhooks signatures)."""

from __future__ import annotations

from patchbay.loops.client import LoopsClient
from patchbay.loops.signature import SIMULATION_SECRET as SIMULATION_SECRET
from patchbay.loops.signature import LoopsWebhookVerifier
from patchbay.webhooks.views import WebhookView


def webhook_verifier() -> LoopsWebhookVerifier:
    """The verifier of the configured ``LOOPS_WEBHOOK_SECRET`` (admin or settings)."""
    secret = LoopsClient().config.get("webhook_secret")
    return LoopsWebhookVerifier(str(secret) if secret else None)


def webhook_secret() -> str | None:
    """The secret deliveries are checked (and simulated ones signed) with, if any.

    The configured one; without it, the simulation's while its public secret is
    accepted (``DEBUG`` on); None otherwise, and simulation then delivers nothing.
    """
    return webhook_verifier().signing_secret


class LoopsWebhookView(WebhookView):
    """Verified by :class:`~patchbay.loops.signature.LoopsWebhookVerifier`."""

    provider = "loops"

    def get_verifier(self) -> LoopsWebhookVerifier:
        return webhook_verifier()
