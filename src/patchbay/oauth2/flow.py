"""The OAuth2 authorization-code flow: to the provider and back, and disconnecting.

:func:`authorization_url` starts a connection: it keeps the ``state`` and the
PKCE verifier in the user's session, one key per state, and gives the
provider's authorization URL. :func:`complete_authorization` handles the
provider's redirect back: the state must be one this session started, not
used yet and younger than :setting:`PATCHBAY_OAUTH2_STATE_MAX_AGE` seconds
(it is consumed on sight, so a replay is refused), then the code is exchanged
for tokens with the verifier and stored. :func:`disconnect` revokes the token
at the provider (RFC 7009) before forgetting it. Each returns a result dict
and records an IntegrationLog row for a failure; the views only render them.

While simulating, the provider is :mod:`patchbay.oauth2.simulated`: a local
consent page and an in-process token endpoint.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from django.utils.http import url_has_allowed_host_and_scheme

from patchbay.conf import conf
from patchbay.core.auth import OAUTH2_AUTHORIZE, OAUTH2_CALLBACK, OAUTH2_REVOKE
from patchbay.core.recording import record_refusal
from patchbay.core.request import Request
from patchbay.core.sdk import import_sdk
from patchbay.core.urls import patchbay_path
from patchbay.exceptions import ServiceError
from patchbay.oauth2 import simulated, tokens
from patchbay.oauth2.provider import OAuth2Provider, oauth2_auth
from patchbay.results import Failure, Success, failure

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase
    from django.http import HttpRequest

    from patchbay.core.client import BaseClient
    from patchbay.models import OAuth2Token

#: The session keys of started authorizations: this prefix and the state.
SESSION_PREFIX = "patchbay.oauth2.state."
#: Who may connect (and disconnect) a site-wide connection, besides being staff.
SITE_WIDE_PERMISSION = "patchbay.change_externalservice"
#: The operation names of the flow's IntegrationLog rows.
AUTHORIZE, CALLBACK, REVOKE = OAUTH2_AUTHORIZE, OAUTH2_CALLBACK, OAUTH2_REVOKE
_SECURITY_MODULE = "authlib.common.security"


class AuthorizationSuccess(Success):
    """:func:`authorization_url`: where to send the user's browser."""

    url: str


class ConnectionSuccess(Success):
    """:func:`complete_authorization`: the connection is stored."""

    #: When the access token expires (ISO 8601), None when the provider gave no lifetime.
    expires_at: str | None
    #: The granted scopes.
    scopes: list[str]
    #: Where the connection was started from (checked to be this site), or "".
    next_url: str


class DisconnectSuccess(Success):
    """:func:`disconnect`: there is no stored connection any more."""

    #: Whether the provider was asked to revoke the token (it has a revocation URL).
    revoked: bool
    #: Whether there was a stored connection to delete.
    deleted: bool


class RevocationSuccess(Success):
    """:func:`revoke`: the provider revoked the token, or has no revocation endpoint."""

    revoked: bool


AuthorizationResult = AuthorizationSuccess | Failure
ConnectionResult = ConnectionSuccess | Failure
DisconnectResult = DisconnectSuccess | Failure
RevocationResult = RevocationSuccess | Failure


# -- who may connect -----------------------------------------------------------------


def is_per_user(client_class: type[BaseClient]) -> bool:
    """Whether each user connects ``client_class`` for themselves (else: once, site-wide)."""
    return oauth2_auth(client_class).per_user


def may_connect(user: Any, client_class: type[BaseClient]) -> bool:
    """Whether ``user`` may connect and disconnect ``client_class``.

    Any signed-in, active user connects their own account of a per-user
    client; a site-wide connection takes a staff user with the
    ``patchbay.change_externalservice`` permission.
    """
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if is_per_user(client_class):
        return True
    return bool(user.is_staff and user.has_perm(SITE_WIDE_PERMISSION))


def _owner(request: HttpRequest, client: BaseClient) -> Any:
    """The user whose connection the request is about: None for the site-wide one."""
    return request.user if is_per_user(type(client)) else None


def _owner_label(user: Any) -> str:
    """Whose connection, for log rows: ``"site"`` or ``"user <pk>"``."""
    return "site" if user is None else f"user {getattr(user, 'pk', user)}"


class Refusal(NamedTuple):
    """Why a request to the flow is refused before anything is sent."""

    message: str
    error_code: str
    status: int


def _refused(client: BaseClient, operation: str, refusal: Refusal) -> Failure:
    # Anyone can send these (a forged callback costs nothing): counted, and stored
    # once per window, like refused webhook deliveries.
    record_refusal(
        provider=client.provider,
        operation=operation,
        error=refusal.message,
        error_code=refusal.error_code,
        status_code=refusal.status,
        duration_ms=0,
    )
    return failure(refusal.message, error_code=refusal.error_code)


def _not_permitted(request: HttpRequest, client: BaseClient) -> Refusal | None:
    if may_connect(request.user, type(client)):
        return None
    if not getattr(request.user, "is_authenticated", False):
        message = f"Sign in to connect {client.label()}."
    elif is_per_user(type(client)):
        message = f"This account may not connect {client.label()}."
    else:
        message = (
            f"Connecting {client.label()} for the whole site takes a staff user allowed to "
            "change services (patchbay.change_externalservice)."
        )
    return Refusal(message, "permission_error", 403)


# -- starting: the redirect to the provider --------------------------------------------


def callback_url(provider: str, request: HttpRequest | None = None) -> str:
    """The redirect URI to register at the provider: where it sends the user back.

    :setting:`PATCHBAY_PUBLIC_URL` followed by the path of
    ``patchbay:oauth2-callback``; without it, the request's own scheme and host
    (``patchbay.W055`` warns when a live OAuth2 client relies on that). Raises
    ``ServiceError`` ``urls_not_mounted``.
    """
    path = patchbay_path("patchbay:oauth2-callback", kwargs={"provider": provider})
    if conf.PUBLIC_URL or request is None:
        return conf.PUBLIC_URL + path
    return request.build_absolute_uri(path)


def safe_next(request: HttpRequest, next_url: str) -> str:
    """``next_url`` if it is a URL of this site (no open redirect), else ""."""
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if next_url and allowed else ""


def authorization_url(
    request: HttpRequest, client: BaseClient, *, next_url: str = ""
) -> AuthorizationResult:
    """Start connecting ``client``: the result's ``url`` is the provider's consent page.

    The connection is the site's (the user must be staff with
    ``patchbay.change_externalservice``), or, for a per-user client, the
    signed-in user's own. The state and PKCE verifier are kept in
    ``request.session`` until the callback; ``next_url`` (kept only if it is
    on this site) is where the callback sends the user once connected.
    Fails with ``permission_error``, ``not_configured``, ``sdk_missing`` or
    ``urls_not_mounted``; only failures are stored as IntegrationLog rows.
    """
    refusal = _not_permitted(request, client)
    if refusal is not None:
        return _refused(client, AUTHORIZE, refusal)

    def start(endpoint: str) -> dict[str, Any]:
        provider = OAuth2Provider.of(client)
        redirect_uri = callback_url(client.provider, request)
        verifier = import_sdk(_SECURITY_MODULE, "oauth2").generate_token(48)
        url, state = provider.session(redirect_uri=redirect_uri).create_authorization_url(
            endpoint or provider.authorize_url,
            code_verifier=verifier if provider.pkce else None,
            **provider.extra_authorize_params,
        )
        _forget_expired(request.session)
        request.session[SESSION_PREFIX + state] = {
            "provider": client.provider,
            # The tenant whose connection this is: the callback must be for the same one.
            "tenant": client.tenant_key,
            "user": _session_value(request.user.pk),
            "verifier": verifier if provider.pkce else None,
            "redirect_uri": redirect_uri,
            "next": safe_next(request, next_url),
            "started": time.time(),
        }
        return {"url": url}

    result: AuthorizationResult = client.call(  # type: ignore[assignment]
        AUTHORIZE,
        lambda: start(""),
        simulate=lambda: start(simulated.authorize_url(client.provider)),
        params={"user": _owner_label(_owner(request, client))},
        local=True,
    )
    return result


def _session_value(pk: Any) -> str:
    # The session is JSON: a UUID primary key would not serialize.
    return str(pk)


def _forget_expired(session: SessionBase) -> None:
    # Connect clicked and never finished leaves a state behind: bounded by its age.
    oldest = time.time() - conf.OAUTH2_STATE_MAX_AGE
    # SessionBase has keys() but no __iter__.
    for key in [key for key in session.keys() if key.startswith(SESSION_PREFIX)]:  # noqa: SIM118
        if session[key].get("started", 0) < oldest:
            del session[key]


# -- the callback: state, then the code for tokens -------------------------------------


def complete_authorization(request: HttpRequest, client: BaseClient) -> ConnectionResult:
    """Handle the provider's redirect back to ``patchbay:oauth2-callback``; store the token.

    Refused without a request to the provider: a ``state`` this session did
    not start, started over :setting:`PATCHBAY_OAUTH2_STATE_MAX_AGE` seconds
    ago, or used already (``invalid_state``); a user other than the one who
    started it, or one no longer allowed to (``permission_error``);
    ``error=access_denied`` (``access_denied``) or another error the provider
    sent back (``api_error``); no ``code`` (``invalid_request``). Then the
    code is exchanged with the PKCE verifier; a token endpoint that refuses it
    or fails gives its error (``authentication_error``, ``api_error``,
    ``timeout``...). On success the token is saved, replacing any before it.
    """
    state = request.GET.get("state", "")
    # Taken out on sight: whatever happens next, this state never serves again.
    pending = request.session.pop(SESSION_PREFIX + state, None) if state else None
    refusal = _state_problem(request, client, pending)
    if refusal is not None:
        return _refused(client, CALLBACK, refusal)
    result: ConnectionResult = client.perform(
        # A dict: _state_problem refused anything else.
        CodeExchange.build,
        request,
        cast("dict[str, Any]", pending),
        _owner(request, client),
    )
    return result


def _state_problem(
    request: HttpRequest, client: BaseClient, pending: dict[str, Any] | None
) -> Refusal | None:
    again = f"Connect {client.label()} again."
    if (
        not isinstance(pending, dict)
        or pending.get("provider") != client.provider
        or pending.get("tenant", "") != client.tenant_key
    ):
        return Refusal(
            f"This authorization answer does not match one started from this browser, or "
            f"was used already. {again}",
            "invalid_state",
            400,
        )
    if time.time() - float(pending.get("started", 0)) > conf.OAUTH2_STATE_MAX_AGE:
        return Refusal(
            f"This authorization took longer than {conf.OAUTH2_STATE_MAX_AGE} seconds. {again}",
            "invalid_state",
            400,
        )
    if pending.get("user") != _session_value(request.user.pk):
        return Refusal(
            f"This authorization was started by another account. {again}",
            "permission_error",
            403,
        )
    return _not_permitted(request, client)


class CodeExchange(Request[ConnectionSuccess]):
    """The authorization code of a callback, exchanged for tokens at the token endpoint."""

    operation = CALLBACK

    def __init__(self, code: str, pending: dict[str, Any], user: Any, owner: Any) -> None:
        self.code = code
        self.verifier: str | None = pending.get("verifier")
        self.redirect_uri: str = pending["redirect_uri"]
        self.next_url: str = pending.get("next") or ""
        self.user, self.owner = user, owner

    @classmethod
    def build(cls, request: HttpRequest, pending: dict[str, Any], owner: Any) -> CodeExchange:
        error = request.GET.get("error", "")
        if error == "access_denied":
            raise ServiceError(
                "The authorization was refused (access_denied): nothing was connected.",
                error_code="access_denied",
            )
        if error:
            described = request.GET.get("error_description", "")[:200]
            raise ServiceError(
                f"The provider answered the authorization with {error[:100]!r}"
                + (f": {described}" if described else "")
                + ". Nothing was connected.",
                error_code="api_error",
            )
        code = request.GET.get("code", "")
        if not code:
            raise ServiceError(
                "The provider sent the user back without an authorization code: nothing "
                "was connected.",
                error_code="invalid_request",
            )
        return cls(code, pending, request.user, owner)

    def params(self) -> dict[str, Any]:
        return {"user": _owner_label(self.owner)}

    def send(self, client: BaseClient) -> ConnectionSuccess:
        provider = OAuth2Provider.of(client)
        session = provider.session(redirect_uri=self.redirect_uri)
        try:
            answer = session.fetch_token(
                provider.token_url,
                grant_type="authorization_code",
                code=self.code,
                code_verifier=self.verifier,
            )
        except Exception as exc:  # authlib's OAuthError, or the transport's
            raise _exchange_error(client, exc) from exc
        return self._saved(client, answer)

    def simulate(self, client: BaseClient) -> ConnectionSuccess:
        answer = simulated.exchange_code(
            client.provider, self.code, verifier=self.verifier, redirect_uri=self.redirect_uri
        )
        return self._saved(client, answer)

    def _saved(self, client: BaseClient, answer: dict[str, Any]) -> ConnectionSuccess:
        client.add_secrets(
            *(str(answer.get(name) or "") for name in ("access_token", "refresh_token"))
        )
        token = tokens.save_token(client, self.owner, answer, connected_by=self.user)
        return {
            "success": True,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "scopes": list(token.scopes),
            "next_url": self.next_url,
        }


def _exchange_error(client: BaseClient, exc: Exception) -> ServiceError:
    error = getattr(exc, "error", None)
    if isinstance(error, str):
        return ServiceError(
            f"{client.label()}'s token endpoint refused the authorization code ({error}): "
            f"connect {client.label()} again.",
            error_code="authentication_error",
        )
    return tokens.token_endpoint_error(client, exc)


# -- disconnecting -----------------------------------------------------------------------


def revoke(client: BaseClient, token: OAuth2Token) -> RevocationResult:
    """Revoke ``token`` at the provider's revocation endpoint (RFC 7009), if it has one.

    The refresh token is revoked (which ends the whole grant), or the access
    token of a connection without one. ``revoked`` is False for a provider
    without a revocation URL: nothing is sent. The stored row is left alone:
    :func:`disconnect` deletes it once this succeeded.
    """
    client.add_secrets(*(str(value) for value in token.tokens.values()))
    if token.refresh_token:
        value, hint = token.refresh_token, "refresh_token"
    else:
        value, hint = token.access_token, "access_token"

    def live() -> dict[str, Any]:
        provider = OAuth2Provider.of(client)
        if not provider.revocation_url:
            return {"revoked": False}
        response = provider.session().revoke_token(
            provider.revocation_url, value, token_type_hint=hint
        )
        if response.status_code != 200:
            raise ServiceError(
                f"{client.label()}'s revocation endpoint answered HTTP {response.status_code}.",
                error_code="api_error",
                retryable=response.status_code >= 500 or response.status_code == 429,
                status=response.status_code,
            )
        return {"revoked": True}

    result: RevocationResult = client.call(  # type: ignore[assignment]
        REVOKE,
        live,
        simulate=lambda: {"revoked": simulated.revoke(client.provider, value)},
        params={"user": _owner_label(token.user_id)},
    )
    return result


def disconnect(request: HttpRequest, client: BaseClient) -> DisconnectResult:
    """Revoke the connection the request is about at the provider, then delete it.

    The site-wide connection (staff with ``patchbay.change_externalservice``)
    or, for a per-user client, the signed-in user's own. A revocation that
    fails keeps the stored connection, so that disconnecting can be tried
    again (the revocation's error is the result); without a stored
    connection, nothing is sent and ``deleted`` is False.
    """
    refusal = _not_permitted(request, client)
    if refusal is not None:
        return _refused(client, REVOKE, refusal)
    owner = _owner(request, client)
    token = tokens.get_token(client, owner)
    if token is None:
        return {"success": True, "revoked": False, "deleted": False}
    revoked = revoke(client, token)
    if not revoked["success"]:
        return revoked
    tokens.delete_token(client, owner)
    return {"success": True, "revoked": revoked["revoked"], "deleted": True}
