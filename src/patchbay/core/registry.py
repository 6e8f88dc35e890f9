"""The service clients patchbay knows about, by provider name."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from patchbay.core.client import BaseClient

_clients: dict[str, type[BaseClient]] = {}


def register(client_class: type[BaseClient]) -> None:
    """Make ``client_class`` known to the admin, checks and commands.

    Called automatically for every subclass of BaseClient that sets ``provider``.
    """
    _clients[client_class.provider] = client_class


def get_client_class(provider: str) -> type[BaseClient] | None:
    return _clients.get(provider)


def client_classes() -> list[type[BaseClient]]:
    """Registered clients, sorted by provider."""
    return [_clients[provider] for provider in sorted(_clients)]
