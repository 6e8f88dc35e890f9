"""The shared webhook pipeline: verify, store once, dispatch, record.

Handlers are registered per provider and event type::

    from patchbay.webhooks import receiver

    @receiver("stripe", "checkout.session.completed")
    def on_checkout(event):
        ...

Provider endpoints subclass :class:`patchbay.webhooks.views.WebhookView`.
"""

from __future__ import annotations

from patchbay.exceptions import WebhookVerificationError
from patchbay.webhooks.registry import VerifiedDelivery, handlers_for, receiver

__all__ = ["VerifiedDelivery", "WebhookVerificationError", "handlers_for", "receiver"]
