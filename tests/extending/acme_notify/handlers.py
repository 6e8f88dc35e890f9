"""What the project does when Acme Notify reports an event.

Import this module from your AppConfig.ready(), so the handlers are registered
before the first delivery arrives.
"""

from __future__ import annotations

from django.core.cache import cache

from patchbay.models import WebhookEvent
from patchbay.webhooks import receiver

_DELIVERED_KEY = "acme_notify:delivered:{}"
_A_WEEK = 7 * 24 * 3600


@receiver("acme_notify", "notification.delivered")
def remember_delivery(event: WebhookEvent) -> None:
    """Keep when each notification reached its device; see :func:`delivered_at`."""
    notification = event.payload["data"]
    cache.set(_DELIVERED_KEY.format(notification["id"]), notification["delivered_at"], _A_WEEK)


def delivered_at(notification_id: str) -> str | None:
    """When the notification was delivered (ISO 8601), or None if it is not known to be."""
    value: str | None = cache.get(_DELIVERED_KEY.format(notification_id))
    return value
