"""The Loops webhook endpoint, ``patchbay:loops-webhook`` (Standard Webhooks signatures)."""

from __future__ import annotations

from patchbay.core.simulation import should_simulate
from patchbay.loops.client import LoopsClient
from patchbay.loops.signature import LoopsWebhookVerifier
from patchbay.webhooks.views import WebhookView

#: Signs simulated events when no LOOPS_WEBHOOK_SECRET is configured.
SIMULATION_SECRET = "whsec_cGF0Y2hiYXktc2ltdWxhdGVkLWxvb3BzLXNlY3JldA=="  # noqa: S105  # nosec B105  # public


def webhook_secret() -> str | None:
    secret = LoopsClient().config.get("webhook_secret")
    if secret:
        return str(secret)
    return SIMULATION_SECRET if should_simulate() else None


class LoopsWebhookView(WebhookView):
    """Verified by :class:`~patchbay.loops.signature.LoopsWebhookVerifier`."""

    provider = "loops"

    def get_verifier(self) -> LoopsWebhookVerifier:
        return LoopsWebhookVerifier(webhook_secret())
