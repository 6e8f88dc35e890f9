"""The OAuth2 provider configuration of a client, resolved like every other configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from patchbay.conf import conf
from patchbay.core import auth
from patchbay.core.sdk import import_sdk

if TYPE_CHECKING:
    from patchbay.core.client import BaseClient

# authlib's requests integration: the OAuth2 client side, imported for live calls only.
SESSION_MODULE = "authlib.integrations.requests_client"


def oauth2_auth(client_class: type[BaseClient]) -> auth.OAuth2Auth:
    """The client's OAuth2 declaration; :exc:`TypeError` for a client without one."""
    declared = client_class.authentication
    if not isinstance(declared, auth.OAuth2Auth):
        raise TypeError(f"{client_class.__name__} declares no OAuth2Auth authentication.")
    return declared


def _scope_list(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    return tuple(str(scope) for scope in value)


@dataclass(frozen=True)
class OAuth2Provider:
    """Everything the OAuth2 flow and the token refresh need to know about a provider.

    Made with :meth:`of` from a client: the values come from its
    :class:`~patchbay.core.config.ServiceConfig`, so constructor arguments,
    the ``ExternalService`` row and settings take precedence over the
    :class:`~patchbay.core.auth.OAuth2Auth` declaration's defaults. Its
    ``repr`` never shows the client secret.
    """

    name: str
    authorize_url: str
    token_url: str
    revocation_url: str | None
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    pkce: bool
    extra_authorize_params: Mapping[str, str]
    token_endpoint_auth_method: str
    per_user: bool

    @classmethod
    def of(cls, client: BaseClient) -> OAuth2Provider:
        """The provider configuration of ``client`` (which must declare :class:`OAuth2Auth`)."""
        declared = oauth2_auth(type(client))
        config = client.config
        secret = str(config.get(auth.OAUTH2_CLIENT_SECRET, ""))
        return cls(
            name=client.provider,
            authorize_url=str(config.get(auth.OAUTH2_AUTHORIZE_URL, "")),
            token_url=str(config.get(auth.OAUTH2_TOKEN_URL, "")),
            revocation_url=config.get(auth.OAUTH2_REVOCATION_URL) or None,
            client_id=str(config.get(auth.OAUTH2_CLIENT_ID, "")),
            client_secret=secret,
            scopes=_scope_list(config.get(auth.OAUTH2_SCOPES)),
            pkce=declared.pkce,
            extra_authorize_params=dict(declared.extra_authorize_params),
            token_endpoint_auth_method=declared.token_endpoint_auth_method
            or ("client_secret_basic" if secret else "none"),
            per_user=declared.per_user,
        )

    def __repr__(self) -> str:
        return f"<OAuth2Provider {self.name} client_id={self.client_id!r}>"

    def session(self, *, redirect_uri: str | None = None, with_scope: bool = True) -> Any:
        """An authlib ``OAuth2Session`` for this provider (raises ``SDKNotInstalled``).

        ``with_scope=False`` leaves the scopes out, as a refresh must: asked
        again, some providers narrow the grant to them.
        """
        session_class = import_sdk(SESSION_MODULE, "oauth2").OAuth2Session
        return session_class(
            client_id=self.client_id,
            client_secret=self.client_secret or None,
            token_endpoint_auth_method=self.token_endpoint_auth_method,
            revocation_endpoint_auth_method=self.token_endpoint_auth_method,
            scope=" ".join(self.scopes) if with_scope and self.scopes else None,
            redirect_uri=redirect_uri,
            code_challenge_method="S256" if self.pkce else None,
            default_timeout=conf.TIMEOUT,
        )
