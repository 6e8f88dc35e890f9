"""Signals patchbay sends. Connect with ``sender="<provider>"`` to filter by provider."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent for every verified, first-time (or redelivered-after-failure) webhook
#: event. Arguments: ``sender`` (the provider name) and ``event`` (the
#: :class:`~patchbay.models.WebhookEvent`). An exception raised by a receiver
#: marks the event failed so the provider redelivers it.
webhook_received = Signal()
