"""What a service is, apart from its client: its name, configuration values, switch and SDK.

The system checks, the admin's forms and the management commands read only
this, so a start need not import the clients (and all they import): each
built-in service declares itself in a small ``patchbay/<service>/service.py``,
which its client class takes every value from. A client of your own may do
the same, or set the same names on the class; either way the registered class
serves as its own declaration (see :mod:`patchbay.core.registry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from patchbay.core.config import ConfigField
from patchbay.core.sdk import sdk_available
from patchbay.exceptions import SDKNotInstalled

if TYPE_CHECKING:
    from typing import Protocol

    from patchbay.core.auth import Authentication, OAuth2Auth

    class Declared(Protocol):
        """What the checks, the admin and the commands read of a service.

        Met by a :class:`ServiceDeclaration` and by every registered client class.
        For type checking only: making a Protocol class costs a start, too.
        """

        # Read-only, so that a class's ClassVars and a declaration's attributes both match.
        @property
        def provider(self) -> str: ...
        @property
        def display_name(self) -> str: ...
        @property
        def sdk_module(self) -> str | None: ...
        @property
        def extra(self) -> str | None: ...
        @property
        def config_fields(self) -> Mapping[str, ConfigField]: ...
        @property
        def enabled_setting(self) -> str | None: ...
        @property
        def webhook_secret_field(self) -> str | None: ...
        @property
        def webhook_url_names(self) -> tuple[str, ...]: ...
        @property
        def authentication(self) -> Authentication | None: ...
        def label(self) -> str: ...
        def missing_sdk(self) -> SDKNotInstalled | None: ...


#: The names a declaration gives its client class.
DECLARED_NAMES = (
    "provider",
    "display_name",
    "sdk_module",
    "extra",
    "config_fields",
    "enabled_setting",
    "webhook_secret_field",
    "webhook_url_names",
    "authentication",
)


class ServiceDeclaration:
    """One service's declaration; a client class sets ``declaration`` to it.

    The arguments are the client class attributes of the same names (see
    :class:`~patchbay.core.client.BaseClient`). ``config_fields`` ends with
    the values the ``authentication`` adds (named after the provider) unless
    it declares them itself, and each field with its setting's default and
    help text when :mod:`patchbay.conf` declares the setting. Read-only.
    """

    # A plain class, not a dataclass: making a dataclass costs a start a millisecond.
    __slots__ = (*DECLARED_NAMES, "authentication_fields")

    provider: str
    display_name: str
    sdk_module: str | None
    extra: str | None
    config_fields: Mapping[str, ConfigField]
    enabled_setting: str | None
    webhook_secret_field: str | None
    webhook_url_names: tuple[str, ...]
    authentication: Authentication | None
    #: The names of the config_fields that authentication added (not declared here).
    authentication_fields: frozenset[str]

    def __init__(
        self,
        provider: str,
        *,
        display_name: str = "",
        sdk_module: str | None = None,
        extra: str | None = None,
        config_fields: Mapping[str, ConfigField] | None = None,
        enabled_setting: str | None = None,
        webhook_secret_field: str | None = None,
        webhook_url_names: tuple[str, ...] = (),
        authentication: Authentication | None = None,
    ) -> None:
        fields, added = with_authentication_fields(
            provider, authentication, declared_fields(config_fields or {})
        )
        values = {
            "provider": provider,
            "display_name": display_name,
            "sdk_module": sdk_module,
            "extra": extra,
            "config_fields": fields,
            "enabled_setting": enabled_setting,
            "webhook_secret_field": webhook_secret_field,
            "webhook_url_names": tuple(webhook_url_names),
            "authentication": authentication,
            "authentication_fields": added,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"A ServiceDeclaration is read-only ({name}).")

    def __repr__(self) -> str:
        return f"<ServiceDeclaration {self.provider!r}>"

    def label(self) -> str:
        """The service's human name, for messages."""
        return label(self)

    def missing_sdk(self) -> SDKNotInstalled | None:
        """The error naming the module live calls need that is not installed, if any."""
        return missing_sdk(self)


def declared_fields(fields: Mapping[str, ConfigField]) -> dict[str, ConfigField]:
    """``fields`` with the default and help text of the settings patchbay.conf declares."""
    return {name: config_field.declared() for name, config_field in fields.items()}


def with_authentication_fields(
    provider: str,
    authentication: Authentication | None,
    fields: Mapping[str, ConfigField],
) -> tuple[dict[str, ConfigField], frozenset[str]]:
    """``fields`` after those ``authentication`` adds, and the names it added.

    A value declared in ``fields`` wins over the authentication's of the same name.
    """
    if authentication is None or not provider:
        return dict(fields), frozenset()
    added = authentication.config_fields(provider)
    return {**added, **fields}, frozenset(added) - frozenset(fields)


def label(service: Declared) -> str:
    """The service's human name: its display name, else the provider title-cased."""
    return service.display_name or service.provider.title()


def missing_sdk(service: Declared) -> SDKNotInstalled | None:
    """The error naming the module the service's live calls need and cannot import, if any."""
    needed = [(service.sdk_module, service.extra or service.provider)]
    if service.authentication is not None:
        needed.append((service.authentication.sdk_module, service.authentication.extra or ""))
    for module, extra in needed:
        if module and not sdk_available(module):
            return SDKNotInstalled(module, extra)
    return None


def oauth2(service: Declared) -> OAuth2Auth | None:
    """The service's OAuth2 declaration, if it authenticates with OAuth2.

    Imports :mod:`patchbay.core.auth` only for a service that declares an
    authentication (which imported it already): a start without one need not.
    """
    authentication = service.authentication
    if authentication is None:
        return None
    from patchbay.core.auth import OAuth2Auth

    return authentication if isinstance(authentication, OAuth2Auth) else None
