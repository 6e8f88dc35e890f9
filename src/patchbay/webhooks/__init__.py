"""Receiving webhooks: verify, store once, run the handlers, record.

Handlers are registered per provider and event type::

    from patchbay.webhooks import receiver


    @receiver("stripe", "checkout.session.completed")
    def on_checkout(event):
        ...

A provider's endpoint is a :class:`WebhookView` whose ``get_verifier()``
returns the provider's :class:`WebhookVerifier`. Ordering and failure rules:
:ref:`webhook-handlers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from patchbay.exceptions import WebhookVerificationError
from patchbay.webhooks.registry import disconnect, handlers_for, receiver
from patchbay.webhooks.verification import VerifiedDelivery, WebhookVerifier

if TYPE_CHECKING:
    from patchbay.webhooks.processing import reprocess
    from patchbay.webhooks.views import WebhookView

__all__ = [
    "VerifiedDelivery",
    "WebhookVerificationError",
    "WebhookVerifier",
    "WebhookView",
    "disconnect",
    "handlers_for",
    "receiver",
    "reprocess",
]

# The view and the pipeline need the models, and importing this package (as a project's
# handlers module does at start) must not load them: they are imported on first use.
_LAZY = {
    "WebhookView": "patchbay.webhooks.views",
    "reprocess": "patchbay.webhooks.processing",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
