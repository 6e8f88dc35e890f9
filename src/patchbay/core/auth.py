"""How a client authenticates its HTTP calls: declared once on the class, applied by the core.

A client sets ``authentication`` to one of :class:`ApiKeyAuth`,
:class:`BasicAuth`, :class:`BearerAuth` or :class:`OAuth2Auth`; the
configuration values it needs are added to the client's ``config_fields``
(unless the client declares them itself), and :meth:`BaseClient.http
<patchbay.core.client.BaseClient.http>` sends every request with them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from patchbay.core.config import ConfigField, ServiceConfig

if TYPE_CHECKING:
    import requests

    from patchbay.core.client import BaseClient

#: Sends one request with the given keyword arguments of ``requests.Session.request``.
Send = Callable[[dict[str, Any]], "requests.Response"]


def setting_name(provider: str, name: str) -> str:
    """The Django setting of a value a declaration adds: ``ACME_API_KEY`` for ``api_key``."""
    return f"{provider.upper()}_{name.upper()}"


def _with_header(kwargs: Mapping[str, Any], name: str, value: str) -> dict[str, Any]:
    return {**kwargs, "headers": {**(kwargs.get("headers") or {}), name: value}}


class Authentication:
    """What every authentication declaration does; subclasses fill in the parts."""

    #: The module the declaration needs for live calls, and the extra installing it.
    sdk_module: ClassVar[str | None] = None
    extra: ClassVar[str | None] = None

    def config_fields(self, provider: str) -> dict[str, ConfigField]:
        """The configuration values the declaration reads, added to the client's."""
        return {}

    def apply(self, config: ServiceConfig, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """``kwargs`` of ``requests.Session.request`` with the credentials added."""
        return dict(kwargs)

    def send(self, client: BaseClient, send: Send, kwargs: Mapping[str, Any]) -> requests.Response:
        """Send one authenticated request (OAuth2 also refreshes and retries)."""
        return send(self.apply(client.config, kwargs))

    def basic_auth(self, config: ServiceConfig) -> list[tuple[str, str]]:
        """The ``(user, password)`` pairs sent as HTTP Basic credentials, for redaction."""
        return []

    def check_simulated(self, client: BaseClient, operation: str) -> None:
        """Raise the ServiceError a live ``operation`` would meet before sending, if any.

        Simulated calls send nothing, but fail as live ones would where the
        credentials are not configuration (an OAuth2 connection not made).
        """


@dataclass(frozen=True)
class ApiKeyAuth(Authentication):
    """An API key in a header (``X-API-Key: <key>`` by default) or a query parameter.

    ``prefix`` goes before the key in the header (``"Token "``); with
    ``query_parameter`` set the key is sent as that parameter instead.
    """

    field: str = "api_key"
    header: str = "X-API-Key"
    prefix: str = ""
    query_parameter: str | None = None

    def config_fields(self, provider: str) -> dict[str, ConfigField]:
        return {self.field: ConfigField(setting=setting_name(provider, self.field), secret=True)}

    def apply(self, config: ServiceConfig, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        key = str(config[self.field])
        if self.query_parameter:
            params = {**(kwargs.get("params") or {}), self.query_parameter: key}
            return {**kwargs, "params": params}
        return _with_header(kwargs, self.header, f"{self.prefix}{key}")


@dataclass(frozen=True)
class BasicAuth(Authentication):
    """HTTP Basic authentication with two configuration values."""

    username_field: str = "username"
    password_field: str = "password"  # noqa: S105  (a field name)

    def config_fields(self, provider: str) -> dict[str, ConfigField]:
        return {
            self.username_field: ConfigField(setting=setting_name(provider, self.username_field)),
            self.password_field: ConfigField(
                setting=setting_name(provider, self.password_field), secret=True
            ),
        }

    def apply(self, config: ServiceConfig, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        return {**kwargs, "auth": self._pair(config)}

    def basic_auth(self, config: ServiceConfig) -> list[tuple[str, str]]:
        return [self._pair(config)] if config.get(self.password_field) else []

    def _pair(self, config: ServiceConfig) -> tuple[str, str]:
        return str(config.get(self.username_field, "")), str(config.get(self.password_field, ""))


@dataclass(frozen=True)
class BearerAuth(Authentication):
    """A fixed token sent as ``Authorization: Bearer <token>``."""

    field: str = "api_key"

    def config_fields(self, provider: str) -> dict[str, ConfigField]:
        return {self.field: ConfigField(setting=setting_name(provider, self.field), secret=True)}

    def apply(self, config: ServiceConfig, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        return _with_header(kwargs, "Authorization", f"Bearer {config[self.field]}")


# The names of the configuration values an OAuth2 client reads (field names, no secrets).
OAUTH2_CLIENT_ID = "oauth2_client_id"
OAUTH2_CLIENT_SECRET = "oauth2_client_secret"  # noqa: S105  # nosec B105
OAUTH2_AUTHORIZE_URL = "oauth2_authorize_url"
OAUTH2_TOKEN_URL = "oauth2_token_url"  # noqa: S105  # nosec B105
OAUTH2_REVOCATION_URL = "oauth2_revocation_url"
OAUTH2_SCOPES = "oauth2_scopes"


#: The operations of the OAuth2 connection itself (:mod:`patchbay.oauth2`), logged
#: under these names.
OAUTH2_AUTHORIZE = "oauth2_authorize"
OAUTH2_CALLBACK = "oauth2_callback"
OAUTH2_REFRESH = "oauth2_refresh"
OAUTH2_REVOKE = "oauth2_revoke"
OAUTH2_OPERATIONS = frozenset({OAUTH2_AUTHORIZE, OAUTH2_CALLBACK, OAUTH2_REFRESH, OAUTH2_REVOKE})


@dataclass(frozen=True)
class OAuth2Auth(Authentication):
    """The access token of an OAuth2 connection (see :doc:`/oauth2`).

    The URLs and scopes given here are defaults that settings (or the admin)
    override: ``<PROVIDER>_OAUTH2_AUTHORIZE_URL``, ``..._TOKEN_URL``,
    ``..._REVOCATION_URL`` and ``..._SCOPES``, beside
    ``<PROVIDER>_OAUTH2_CLIENT_ID`` and ``<PROVIDER>_OAUTH2_CLIENT_SECRET``
    (a secret). ``per_user`` clients act for the user they are made with
    (``AcmeClient(user=request.user)``), each with a connection of their own.
    ``token_endpoint_auth_method`` is how the client authenticates to the
    token endpoint: ``client_secret_basic`` (the default when there is a
    client secret), ``client_secret_post``, or ``none`` (a public client,
    the default without one).
    """

    sdk_module: ClassVar[str | None] = "authlib"
    extra: ClassVar[str | None] = "oauth2"

    authorize_url: str = ""
    token_url: str = ""
    revocation_url: str | None = None
    scopes: tuple[str, ...] = ()
    pkce: bool = True
    extra_authorize_params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    per_user: bool = False
    token_endpoint_auth_method: str | None = None

    def config_fields(self, provider: str) -> dict[str, ConfigField]:
        def value(name: str, **kwargs: Any) -> ConfigField:
            return ConfigField(setting=setting_name(provider, name), **kwargs)

        return {
            OAUTH2_CLIENT_ID: value(OAUTH2_CLIENT_ID, help_text="The OAuth2 client id."),
            OAUTH2_CLIENT_SECRET: value(
                OAUTH2_CLIENT_SECRET,
                secret=True,
                required=False,
                help_text="The OAuth2 client secret (none for a public client).",
            ),
            OAUTH2_AUTHORIZE_URL: value(
                OAUTH2_AUTHORIZE_URL,
                default=self.authorize_url or None,
                help_text="The provider's authorization endpoint.",
            ),
            OAUTH2_TOKEN_URL: value(
                OAUTH2_TOKEN_URL,
                default=self.token_url or None,
                help_text="The provider's token endpoint.",
            ),
            OAUTH2_REVOCATION_URL: value(
                OAUTH2_REVOCATION_URL,
                required=False,
                default=self.revocation_url or None,
                help_text="The provider's revocation endpoint (RFC 7009), if it has one.",
            ),
            OAUTH2_SCOPES: value(
                OAUTH2_SCOPES,
                required=False,
                default=list(self.scopes) or None,
                help_text="The scopes asked for, a list (or one space-separated string).",
            ),
        }

    def basic_auth(self, config: ServiceConfig) -> list[tuple[str, str]]:
        # The token endpoint's client_secret_basic: the client id and secret, in Base64.
        secret = config.get(OAUTH2_CLIENT_SECRET)
        return [(str(config.get(OAUTH2_CLIENT_ID, "")), str(secret))] if secret else []

    def check_simulated(self, client: BaseClient, operation: str) -> None:
        from patchbay.oauth2 import tokens

        # The operations that make, refresh and end the connection need none.
        if operation not in OAUTH2_OPERATIONS:
            tokens.require_connection(client)

    def send(self, client: BaseClient, send: Send, kwargs: Mapping[str, Any]) -> requests.Response:
        # A valid token first (refreshed when about to expire); an API that refuses it
        # anyway (revoked early, clock skew) gets one refresh and one retry, never more.
        from patchbay.oauth2 import tokens

        access_token = tokens.valid_access_token(client)
        response = send(_with_header(kwargs, "Authorization", f"Bearer {access_token}"))
        if response.status_code != 401:
            return response
        response.close()
        access_token = tokens.refreshed_access_token(client, used_token=access_token)
        return send(_with_header(kwargs, "Authorization", f"Bearer {access_token}"))
