"""The service clients patchbay knows about, by provider name.

patchbay's own clients are listed here by module and imported the first time
the registry is read, not at start-up: a process that never reads it imports
only the clients it uses. Clients of other apps register themselves when
their module is imported, as before.
"""

from __future__ import annotations

import functools
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from patchbay.core.client import BaseClient

# Importing one of these defines, and so registers, a built-in client.
BUILTIN_CLIENT_MODULES = (
    "patchbay.aws.s3",
    "patchbay.loops.client",
    "patchbay.stripe.client",
    "patchbay.twilio.client",
)

_clients: dict[str, type[BaseClient]] = {}


def register(client_class: type[BaseClient]) -> None:
    """Make ``client_class`` known to the admin, checks and commands.

    Called automatically for every subclass of BaseClient that sets ``provider``.
    """
    _clients[client_class.provider] = client_class


def get_client_class(provider: str) -> type[BaseClient] | None:
    _import_builtins()
    return _clients.get(provider)


def client_classes() -> list[type[BaseClient]]:
    """Registered clients, sorted by provider."""
    _import_builtins()
    return [_clients[provider] for provider in sorted(_clients)]


# Cached once it has succeeded. Two threads may both run it the first time, which
# is harmless: the second finds the modules imported.
@functools.cache
def _import_builtins() -> None:
    for module in BUILTIN_CLIENT_MODULES:
        import_module(module)
