"""Webhook handlers by provider and event type, in the order they run."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from patchbay.models import WebhookEvent

Handler = Callable[["WebhookEvent"], Any]
ANY_EVENT = "*"

# patchbay's own handlers (keeping local state current), one module per service. Imported
# when the handlers are first read (a delivery's processing), not at start-up: kept apart
# from the project's, they run first whatever was imported first.
BUILTIN_HANDLER_MODULES = (
    "patchbay.loops.handlers",
    "patchbay.stripe.handlers",
    "patchbay.twilio.handlers",
)

# patchbay's own handlers apart from the project's, so that they run first whatever the
# order of INSTALLED_APPS (or of the imports).
_builtin_handlers: defaultdict[tuple[str, str], list[Handler]] = defaultdict(list)
_handlers: defaultdict[tuple[str, str], list[Handler]] = defaultdict(list)


def receiver(provider: str, *event_types: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for ``provider``'s ``event_types``.

    With no event type it receives every event of the provider. The function
    gets the stored :class:`~patchbay.models.WebhookEvent`. The order handlers
    run in and what a handler raising does are in :ref:`webhook-handlers`.
    """
    return _registering(_handlers, provider, event_types)


def builtin_receiver(provider: str, *event_types: str) -> Callable[[Handler], Handler]:
    """:func:`receiver` for patchbay's own handlers, which run before the project's."""
    return _registering(_builtin_handlers, provider, event_types)


def _registering(
    registry: defaultdict[tuple[str, str], list[Handler]],
    provider: str,
    event_types: tuple[str, ...],
) -> Callable[[Handler], Handler]:
    def decorator(handler: Handler) -> Handler:
        for event_type in event_types or (ANY_EVENT,):
            registered = registry[(provider, event_type)]
            if handler not in registered:
                registered.append(handler)
        return handler

    return decorator


def handlers_for(provider: str, event_type: str) -> list[Handler]:
    """The handlers of an event, in the order they run.

    patchbay's own first, then the project's; within each, those registered
    for this exact type, then those for every type, each in registration order.
    """
    _import_builtin_handlers()
    return [
        handler
        for registry in (_builtin_handlers, _handlers)
        for key in ((provider, event_type), (provider, ANY_EVENT))
        for handler in registry.get(key, ())
    ]


def disconnect(provider: str, event_type: str, handler: Handler) -> None:
    """Unregister ``handler`` for ``event_type`` (``"*"``: every type; mostly for tests)."""
    for registry in (_builtin_handlers, _handlers):
        registered = registry.get((provider, event_type), [])
        if handler in registered:
            registered.remove(handler)


# Cached once it has succeeded. Two threads may both run it the first time, which is
# harmless: a module another thread is importing is waited for, and registering a
# handler twice keeps one.
@functools.cache
def _import_builtin_handlers() -> None:
    for module in BUILTIN_HANDLER_MODULES:
        import_module(module)
