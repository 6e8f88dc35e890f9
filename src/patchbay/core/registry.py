"""The services and clients patchbay knows about, by provider name.

patchbay's own services are listed here by module: their declarations
(:mod:`patchbay.core.declaration`, a few lines each) are imported the first
time :func:`declarations` is read, their clients only when a client class is
asked for. So the system checks, the admin's forms and the commands that read
only what a service is (its provider, label, configuration values, switch and
SDK) import no client, and a process that never asks for a client imports
only the clients it uses. Clients of other apps register themselves when
their module is imported, as before; a registered class is its own
declaration.
"""

from __future__ import annotations

import functools
from importlib import import_module
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from patchbay.core.client import BaseClient
    from patchbay.core.declaration import Declared, ServiceDeclaration


class _BuiltIn(NamedTuple):
    #: The module defining ``SERVICE``, the service's declaration.
    service_module: str
    #: The module defining (and so registering) the client, which takes that declaration.
    client_module: str


BUILTIN_SERVICES = (
    _BuiltIn("patchbay.aws.service", "patchbay.aws.s3"),
    _BuiltIn("patchbay.loops.service", "patchbay.loops.client"),
    _BuiltIn("patchbay.stripe.service", "patchbay.stripe.client"),
    _BuiltIn("patchbay.twilio.service", "patchbay.twilio.client"),
)
# Importing one of these defines, and so registers, a built-in client.
BUILTIN_CLIENT_MODULES = tuple(builtin.client_module for builtin in BUILTIN_SERVICES)

_clients: dict[str, type[BaseClient]] = {}


def register(client_class: type[BaseClient]) -> None:
    """Make ``client_class`` known to the admin, checks and commands.

    Called automatically for every subclass of BaseClient that sets ``provider``
    (or a ``declaration``).
    """
    _clients[client_class.provider] = client_class


def get_client_class(provider: str) -> type[BaseClient] | None:
    """The client class of ``provider``; a built-in one is imported (only it) if need be."""
    if provider not in _clients:
        builtin = _builtins().get(provider)
        if builtin is not None:
            import_module(builtin[1])
    return _clients.get(provider)


def client_classes() -> list[type[BaseClient]]:
    """Registered clients, sorted by provider (the built-in ones imported first)."""
    _import_builtin_clients()
    return [_clients[provider] for provider in sorted(_clients)]


def declarations() -> list[Declared]:
    """What every service is, sorted by provider, without importing a built-in client.

    A built-in service's :class:`~patchbay.core.declaration.ServiceDeclaration`,
    unless its client is registered already; every registered client class
    (a service of your own) as its own declaration. For what reads a service's
    provider, label, configuration values, switch or SDK, not its client.
    """
    found: dict[str, Declared] = {
        provider: declaration for provider, (declaration, _) in _builtins().items()
    }
    found.update(_clients)
    return [found[provider] for provider in sorted(found)]


def get_declaration(provider: str) -> Declared | None:
    """:func:`declarations`' entry for ``provider``, if any."""
    if provider in _clients:
        return _clients[provider]
    builtin = _builtins().get(provider)
    return builtin[0] if builtin is not None else None


# Cached once it has succeeded. Two threads may both run these the first time, which
# is harmless: the second finds the modules imported.
@functools.cache
def _builtins() -> dict[str, tuple[ServiceDeclaration, str]]:
    """Each built-in provider's declaration and client module."""
    found = {}
    for builtin in BUILTIN_SERVICES:
        declaration: ServiceDeclaration = import_module(builtin.service_module).SERVICE
        found[declaration.provider] = (declaration, builtin.client_module)
    return found


@functools.cache
def _import_builtin_clients() -> None:
    for module in BUILTIN_CLIENT_MODULES:
        import_module(module)
