"""Stored OAuth2 tokens: saved, read, and refreshed once however many callers need it.

A refresh holds a lock on the connection: the token's row (``SELECT ... FOR
UPDATE`` in a transaction) on databases that have row locks, else a lock in
the ``PATCHBAY_CACHE_ALIAS`` cache. Whoever gets it second reads the row
again and, finding an access token other than the one it had, uses that one
without asking the provider: providers that rotate refresh tokens invalidate
the old one, so a second refresh with it would lose the connection.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.cache import caches
from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone

from patchbay.conf import conf
from patchbay.core.auth import OAUTH2_REFRESH
from patchbay.exceptions import ServiceError
from patchbay.models import OAuth2Token
from patchbay.oauth2.provider import OAuth2Provider, oauth2_auth
from patchbay.results import Failure, Success
from patchbay.tenancy import current_tenant_key

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from patchbay.core.client import BaseClient

logger = logging.getLogger("patchbay")

#: How long a cache lock on a refresh is held at most, and waited for, in seconds:
#: the refresh request's own timeout, with room for the database writes around it.
_LOCK_MARGIN = 5.0
_LOCK_POLL = 0.05


class TokenSuccess(Success):
    """:func:`refresh`: the connection's access token is valid."""

    #: When the access token expires (ISO 8601), None when the provider gave no lifetime.
    expires_at: str | None
    #: The granted scopes.
    scopes: list[str]
    #: Whether the provider was asked for a new token (False: another caller had).
    refreshed: bool


TokenResult = TokenSuccess | Failure


class Owner(NamedTuple):
    """Whose connection: the provider, the user's primary key (None: site-wide), the tenant."""

    provider: str
    user_id: Any
    #: The tenant the connection belongs to (``""``: the site's; see :doc:`/tenants`).
    tenant_key: str = ""

    def rows(self) -> QuerySet[OAuth2Token]:
        """The connection's row (at most one), as a queryset."""
        rows = OAuth2Token.objects.filter(provider=self.provider, tenant_key=self.tenant_key)
        if self.user_id is None:
            return rows.filter(user__isnull=True)
        return rows.filter(user_id=self.user_id)


def _provider_name(client_or_provider: BaseClient | type[BaseClient] | str) -> str:
    if isinstance(client_or_provider, str):
        return client_or_provider
    return client_or_provider.provider


def _tenant_of(client_or_provider: BaseClient | type[BaseClient] | str) -> str:
    # A client works for its own tenant; a provider name, for the current one.
    tenant = getattr(client_or_provider, "tenant_key", None)
    return tenant if isinstance(tenant, str) else current_tenant_key()


def _owner(client_or_provider: BaseClient | type[BaseClient] | str, user: Any) -> Owner:
    return Owner(_provider_name(client_or_provider), _user_id(user), _tenant_of(client_or_provider))


def _anonymous(user: Any) -> bool:
    return user is not None and not getattr(user, "is_authenticated", True)


def _user_id(user: AbstractBaseUser | Any | None) -> Any:
    """The primary key of ``user`` (a user or a primary key); ValueError for AnonymousUser."""
    if user is None:
        return None
    if _anonymous(user):
        raise ValueError("An anonymous user has no OAuth2 connection.")
    return getattr(user, "pk", user)


def owner_of(client: BaseClient, user: AbstractBaseUser | None = None) -> Owner:
    """The connection ``client`` uses: its user's, for a per-user client, else the site's.

    :exc:`ServiceError` ``not_connected`` for a per-user client without a
    (signed-in) user.
    """
    declared = oauth2_auth(type(client))
    if not declared.per_user:
        return Owner(client.provider, None, client.tenant_key)
    user = user if user is not None else client.user
    try:
        user_id = _user_id(user)
    except ValueError:
        user_id = None
    if user_id is None:
        raise ServiceError(
            f"{client.label()} is connected per user: make the client with user=<a signed-in "
            "user>.",
            error_code="not_connected",
        )
    return Owner(client.provider, user_id, client.tenant_key)


# -- the stored connection ------------------------------------------------------------


def get_token(
    client_or_provider: BaseClient | type[BaseClient] | str,
    user: AbstractBaseUser | None = None,
) -> OAuth2Token | None:
    """The stored token of the provider's site-wide connection, or of ``user``'s."""
    if _anonymous(user):
        return None
    return _owner(client_or_provider, user).rows().first()


def save_token(
    provider: BaseClient | type[BaseClient] | str,
    user: AbstractBaseUser | None,
    token: Mapping[str, Any],
    connected_by: AbstractBaseUser | None = None,
) -> OAuth2Token:
    """Store the token a provider issued for a new connection (replacing any before it).

    ``token`` is the token endpoint's answer (authlib's ``fetch_token``
    result): ``access_token``, and whichever of ``refresh_token``,
    ``id_token``, ``token_type``, ``expires_at``/``expires_in`` and
    ``scope`` it has. ``user`` is None for the site-wide connection.
    """
    owner = _owner(provider, user)
    values = {
        **_token_values(token),
        "status": OAuth2Token.Status.ACTIVE,
        "last_error": "",
        "connected_by": connected_by if getattr(connected_by, "pk", None) else None,
        "connected_at": timezone.now(),
        "refreshed_at": None,
    }
    saved, _ = OAuth2Token.objects.update_or_create(
        provider=owner.provider,
        user_id=owner.user_id,
        tenant_key=owner.tenant_key,
        defaults=values,
    )
    return saved


def delete_token(
    provider: BaseClient | type[BaseClient] | str, user: AbstractBaseUser | None = None
) -> bool:
    """Forget the provider's site-wide connection, or ``user``'s; whether there was one.

    Nothing is sent to the provider: revoking the token there is the
    disconnect view's part.
    """
    if _anonymous(user):
        return False
    deleted, _ = _owner(provider, user).rows().delete()
    return bool(deleted)


def _token_values(token: Mapping[str, Any], previous: OAuth2Token | None = None) -> dict[str, Any]:
    """The model fields of a token answer; what it leaves out is kept from ``previous``."""
    kept: dict[str, Any] = dict(previous.tokens) if previous is not None else {}
    tokens = {
        name: token.get(name) or kept.get(name)
        for name in ("access_token", "refresh_token", "id_token")
        if token.get(name) or kept.get(name)
    }
    scope = token.get("scope")
    if scope:
        scopes = scope.split() if isinstance(scope, str) else [str(part) for part in scope]
    else:
        scopes = list(previous.scopes) if previous is not None else []
    return {
        "tokens": tokens,
        "token_type": str(token.get("token_type") or "Bearer"),
        "expires_at": _expiry(token),
        "scopes": scopes,
    }


def _expiry(token: Mapping[str, Any]) -> datetime.datetime | None:
    # authlib turns expires_in into expires_at (seconds since the epoch) as it receives it.
    if token.get("expires_at"):
        return datetime.datetime.fromtimestamp(int(token["expires_at"]), tz=datetime.timezone.utc)
    if token.get("expires_in"):
        return timezone.now() + datetime.timedelta(seconds=int(token["expires_in"]))
    return None


# -- tokens for calls -----------------------------------------------------------------


def valid_access_token(client: BaseClient, user: AbstractBaseUser | None = None) -> str:
    """An access token of ``client``'s connection that is not about to expire.

    One that expires within :setting:`PATCHBAY_OAUTH2_REFRESH_SKEW` seconds
    is refreshed first (once, whoever else needs it at the same time). Raises
    :exc:`~patchbay.exceptions.ServiceError` ``not_connected`` or
    ``reauthorization_required`` (or the refresh request's failure), which a
    client's operation turns into its failed result.
    """
    owner = owner_of(client, user)
    token = _usable(client, owner, owner.rows().first())
    if not token.expires_soon(conf.OAUTH2_REFRESH_SKEW):
        return token.access_token
    return _refreshed(client, owner, used_token=token.access_token).access_token


def require_connection(client: BaseClient, user: AbstractBaseUser | None = None) -> None:
    """Raise ``not_connected`` or ``reauthorization_required`` as a call would, else nothing.

    What a simulated call of an OAuth2 client checks: nothing is sent, but a
    connection that a live call could not use fails the same way.
    """
    owner = owner_of(client, user)
    _usable(client, owner, owner.rows().first())


def refreshed_access_token(
    client: BaseClient, user: AbstractBaseUser | None = None, *, used_token: str
) -> str:
    """A new access token, to replace ``used_token``, which the provider refused.

    If another caller already replaced it, that caller's token is returned
    without a request. Raises as :func:`valid_access_token` does.
    """
    return _refreshed(client, owner_of(client, user), used_token=used_token).access_token


def refresh(
    client: BaseClient, user: AbstractBaseUser | None = None, *, used_token: str | None = None
) -> TokenResult:
    """Refresh the connection's access token now, as an operation (``oauth2_refresh``).

    Without ``used_token`` the stored token is refreshed whatever its expiry;
    with it, only if it is still that token. The result has ``expires_at``,
    ``scopes`` and ``refreshed``; a refused refresh fails with
    ``reauthorization_required`` and counts against the service's health.
    While simulating, nothing is sent: the result describes the stored token.
    """

    def live() -> TokenSuccess:
        token, asked = _refresh_once(client, owner_of(client, user), used_token=used_token)
        return _described(token, refreshed=asked)

    def simulate() -> TokenSuccess:
        owner = owner_of(client, user)
        return _described(_usable(client, owner, owner.rows().first()), refreshed=False)

    result: TokenResult = client.call(  # type: ignore[assignment]
        OAUTH2_REFRESH, live, simulate=simulate, params={"user": _owner_label(client, user)}
    )
    return result


def _owner_label(client: BaseClient, user: AbstractBaseUser | None = None) -> str:
    """``"site"`` or ``"user <pk>"``, for log rows."""
    if not oauth2_auth(type(client)).per_user:
        return "site"
    found = user if user is not None else client.user
    return f"user {getattr(found, 'pk', found)}"


def _described(token: OAuth2Token, *, refreshed: bool) -> TokenSuccess:
    return {
        "success": True,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "scopes": list(token.scopes),
        "refreshed": refreshed,
    }


def _usable(client: BaseClient, owner: Owner, token: OAuth2Token | None) -> OAuth2Token:
    """``token``, if it can be used or refreshed; else the ServiceError saying why not."""
    if token is None:
        whose = "" if owner.user_id is None else " for this user"
        raise ServiceError(
            f"{client.label()} is not connected{whose}: connect it first (OAuth2).",
            error_code="not_connected",
        )
    client.add_secrets(*token.tokens.values())
    if token.needs_reauthorization():
        raise ServiceError(_reauthorization_message(client), error_code="reauthorization_required")
    return token


def _reauthorization_message(client: BaseClient, why: str = "") -> str:
    because = f" ({why})" if why else ""
    return (
        f"{client.label()} refused to refresh the OAuth2 token{because}: the connection "
        "must be authorized again (Reconnect in the admin)."
    )


def _refreshed(client: BaseClient, owner: Owner, *, used_token: str | None) -> OAuth2Token:
    token, _ = _refresh_once(client, owner, used_token=used_token)
    return token


def _refresh_once(
    client: BaseClient, owner: Owner, *, used_token: str | None
) -> tuple[OAuth2Token, bool]:
    """The refreshed token, and whether this call asked the provider for it."""
    # Errors are raised once the lock (and its transaction) is released: a refused
    # refresh marks the row, and that write must survive the error.
    with _refresh_lock(owner) as read:
        token = _usable(client, owner, read())
        if used_token is not None and token.access_token != used_token:
            return token, False  # refreshed by whoever held the lock before us
        token, error = _request_refresh(client, token)
    if error is not None:
        raise error
    return token, True


@contextlib.contextmanager
def _refresh_lock(owner: Owner) -> Iterator[Callable[[], OAuth2Token | None]]:
    """Hold the connection's refresh lock; yields how to read its row under it."""
    alias = router.db_for_write(OAuth2Token)
    if connections[alias].features.has_select_for_update:
        with transaction.atomic(using=alias):
            yield lambda: owner.rows().using(alias).select_for_update().first()
        return
    scope = f"{owner.provider}@{owner.tenant_key}" if owner.tenant_key else owner.provider
    with _cache_lock(f"patchbay:oauth2:refresh:{scope}:{owner.user_id}"):
        yield owner.rows().using(alias).first


@contextlib.contextmanager
def _cache_lock(key: str) -> Iterator[None]:
    cache = caches[conf.CACHE_ALIAS]
    seconds = conf.TIMEOUT + _LOCK_MARGIN
    mine = secrets.token_hex(8)
    deadline = time.monotonic() + seconds
    # cache.add is atomic: one caller holds the key; the others wait for it to go (or to
    # expire, if its holder died).
    while not cache.add(key, mine, timeout=max(1, round(seconds))):
        if time.monotonic() > deadline:
            raise ServiceError(
                "Another process is refreshing the OAuth2 token and did not finish in time.",
                error_code="timeout",
                retryable=True,
            )
        time.sleep(_LOCK_POLL)
    try:
        yield
    finally:
        if cache.get(key) == mine:
            cache.delete(key)


def _request_refresh(
    client: BaseClient, token: OAuth2Token
) -> tuple[OAuth2Token, ServiceError | None]:
    """Ask the provider for a new access token; the row as updated, and any error."""
    if not token.refresh_token:
        return token, _needs_reauthorization(client, token, "no refresh token was issued")
    provider = OAuth2Provider.of(client)
    session = provider.session(with_scope=False)
    try:
        answer = session.refresh_token(provider.token_url, refresh_token=token.refresh_token)
    except Exception as exc:  # authlib's OAuthError, or the transport's
        error = getattr(exc, "error", None)
        if error == "invalid_grant":
            return token, _needs_reauthorization(client, token, "invalid_grant")
        if isinstance(error, str):
            return token, ServiceError(
                f"{client.label()} refused to refresh the OAuth2 token: {error}.",
                error_code="authentication_error",
            )
        return token, token_endpoint_error(client, exc)
    client.add_secrets(*(str(answer.get(name) or "") for name in ("access_token", "refresh_token")))
    for name, value in _token_values(answer, previous=token).items():
        setattr(token, name, value)
    token.refreshed_at = timezone.now()
    token.save(
        update_fields=["tokens", "token_type", "expires_at", "scopes", "refreshed_at", "updated_at"]
    )
    logger.info("%s: refreshed the OAuth2 access token (%s)", client.provider, token.pk)
    return token, None


def _needs_reauthorization(client: BaseClient, token: OAuth2Token, why: str) -> ServiceError:
    message = _reauthorization_message(client, why)
    token.status = OAuth2Token.Status.REAUTHORIZATION_REQUIRED
    token.last_error = client.redactor.text(message)
    token.save(update_fields=["status", "last_error", "updated_at"])
    logger.warning("%s: %s", client.provider, token.last_error)
    return ServiceError(message, error_code="reauthorization_required")


def token_endpoint_error(client: BaseClient, exc: Exception) -> ServiceError:
    """The ServiceError of a request to ``client``'s token endpoint that raised ``exc``.

    An HTTP answer is ``api_error`` (retryable when 5xx or 429); no answer is
    what the client makes of the exception (timeout, connection error).
    """
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return ServiceError(
            f"{client.label()}'s token endpoint answered HTTP {status}.",
            error_code="api_error",
            retryable=status >= 500 or status == 429,
            status=status,
        )
    return client.translate_exception(exc)
