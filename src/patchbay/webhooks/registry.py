"""Webhook handlers by provider and event type."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from patchbay.models import WebhookEvent

Handler = Callable[["WebhookEvent"], Any]
ANY_EVENT = "*"

_handlers: defaultdict[tuple[str, str], list[Handler]] = defaultdict(list)


def receiver(provider: str, *event_types: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for ``provider``'s ``event_types``.

    With no event type it receives every event of the provider. The function
    gets the stored :class:`~patchbay.models.WebhookEvent`; raising marks the
    event failed (answered 500, so the provider redelivers it).
    """

    def decorator(handler: Handler) -> Handler:
        for event_type in event_types or (ANY_EVENT,):
            registered = _handlers[(provider, event_type)]
            if handler not in registered:
                registered.append(handler)
        return handler

    return decorator


def handlers_for(provider: str, event_type: str) -> list[Handler]:
    """Handlers registered for this exact type, then those for every type."""
    return [*_handlers.get((provider, event_type), ()), *_handlers.get((provider, ANY_EVENT), ())]


def disconnect(provider: str, event_type: str, handler: Handler) -> None:
    """Unregister ``handler`` (mostly for tests)."""
    registered = _handlers.get((provider, event_type), [])
    if handler in registered:
        registered.remove(handler)
