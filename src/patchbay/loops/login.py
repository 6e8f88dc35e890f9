"""Sign-in links by email ("magic links"): one-time tokens and the email that carries them.

``send_login_link_to_address(email, next_url)`` is what a sign-in form calls:
the request does the same work whatever the address, and the account is
looked up and emailed after the response. ``send_login_code_email(user,
next_url)`` (the spec's, after the response too) and ``send_login_link`` (now,
with the result) send to a user. Each makes a token, stores only its hash and
emails the link with the ``login_code`` template; the view at
``patchbay:magic-link-login`` (:mod:`patchbay.loops.views`) consumes the token
and signs the user in. A token is 32 random bytes from :mod:`secrets`, valid
for ``PATCHBAY_MAGIC_LINK_TTL_MINUTES``, usable once (one conditional
``UPDATE``, so two clicks never both sign in), replaced by the user's next
link, and sends are limited per user (or address) and per client IP so the
feature cannot be used to flood someone's inbox.

The client IP is ``request.META["REMOTE_ADDR"]``, never ``X-Forwarded-For``
(see :mod:`patchbay.core.ratelimit` for setting it behind a proxy).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, cast

from django.core.exceptions import DisallowedHost, ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from patchbay.conf import conf
from patchbay.core import deferred, ratelimit
from patchbay.core.arguments import http_request, refusal, text
from patchbay.core.simulation import should_simulate
from patchbay.core.urls import patchbay_path
from patchbay.exceptions import ServiceError
from patchbay.loops.results import (
    LoginLinkRequestResult,
    LoginLinkResult,
    LoginLinkSuccess,
    QueuedEmailSuccess,
)
from patchbay.loops.templates import display_name, send_template
from patchbay.models import LoginToken
from patchbay.results import Failure, RateLimitedFailure, failure
from patchbay.tenancy import UNSET, resolve_tenant_key, tenant_scoped, use_tenant

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

logger = logging.getLogger("patchbay.loops")

URL_NAME = "patchbay:magic-link-login"
TOKEN_BYTES = 32
# Longer than any token we make; longer input is refused before hashing.
_MAX_TOKEN_LENGTH = 128
_MAX_EMAIL_LENGTH = 254
# C0, DEL and C1: no URL worth redirecting to has one, and PostgreSQL refuses NUL.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def hash_token(token: str) -> str:
    """The value stored for ``token``: its SHA-256, in hex.

    Unlike a 6-digit phone code (which :mod:`patchbay.twilio.codes` must key
    with ``SECRET_KEY``), a token has 256 bits of entropy: nobody can find it
    from its hash by trying tokens, so an unkeyed hash suffices. Storing the
    hash means a leaked table holds no working link. Looking tokens up by
    hash also leaks nothing through timing: an attacker cannot choose the
    hash of a guess.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def create_login_token(
    user: AbstractBaseUser, next_url: str | None = None, *, ip_address: str | None = None
) -> tuple[str, LoginToken]:
    """A new token for ``user`` and its stored row; the token itself is stored nowhere.

    A ``next_url`` that is no URL to send anyone to (see :func:`send_login_link`) is
    dropped, with a warning: only a same-site path or URL is worth keeping.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        kept = _checked_next_url(next_url)
    except ServiceError as exc:
        logger.warning("Dropped the next URL of a sign-in link: %s", exc.message)
        kept = ""
    row = LoginToken.objects.create(
        user_id=user.pk,
        token_hash=hash_token(token),
        expires_at=timezone.now() + timedelta(minutes=conf.MAGIC_LINK_TTL_MINUTES),
        next_url=kept,
        ip_address=ratelimit.storable_ip(ip_address),
    )
    return token, row


def _checked_next_url(next_url: object) -> str:
    """``next_url`` ("" for none) if it can be stored and redirected to; else ServiceError.

    Control characters are refused before anything is stored: PostgreSQL refuses
    NUL in a text column (a 500 for existing addresses only, which told them
    apart), and no URL worth redirecting to has any.
    """
    if next_url is None or next_url == "":
        return ""
    if not isinstance(next_url, str):
        raise ServiceError(
            f"next_url must be a string, not {type(next_url).__name__}.",
            error_code="invalid_request",
        )
    if _CONTROL_CHARACTERS.search(next_url):
        raise ServiceError(
            "next_url contains a control character; it is no URL to redirect to.",
            error_code="invalid_request",
        )
    max_length = LoginToken._meta.get_field("next_url").max_length or 0
    if len(next_url) > max_length:
        raise ServiceError(
            f"next_url is {len(next_url)} characters long; at most {max_length} are accepted.",
            error_code="invalid_request",
        )
    return next_url


def login_link(token: str, request: HttpRequest | None = None) -> str:
    """The link to email: ``PATCHBAY_PUBLIC_URL`` + the view's path.

    Without the setting the link is made absolute with ``request``'s scheme and
    host, and without either it is a bare path, which only simulation accepts
    (see :func:`send_login_link`). Raises
    :exc:`~patchbay.exceptions.ServiceError` (``urls_not_mounted``) when
    ``patchbay.urls`` is not mounted.
    """
    return _absolute(patchbay_path(URL_NAME, args=[token]), _site(request))


def consume_login_token(token: str) -> LoginToken | None:
    """The token's row, marked used, if ``token`` is valid now; else None.

    Claiming is one conditional ``UPDATE``: the database applies concurrent
    updates of a row one after the other and re-checks the condition, so
    however many requests race with the same token, exactly one gets it.
    An inactive user's token is used up but returned as None.
    """
    if not _well_formed(token):
        return None
    digest = hash_token(token)
    now = timezone.now()
    claimed = LoginToken.objects.filter(
        token_hash=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        return None
    row = LoginToken.objects.select_related("user").get(token_hash=digest)
    if not getattr(row.user, "is_active", True):
        logger.info("A sign-in link of inactive user %s was used; not signed in.", row.user_id)
        return None
    return row


def _well_formed(token: object) -> bool:
    return isinstance(token, str) and 0 < len(token) <= _MAX_TOKEN_LENGTH


def is_usable(token: str) -> bool:
    """Whether ``token`` would sign someone in now, without using it."""
    if not _well_formed(token):
        return False
    return LoginToken.objects.filter(
        token_hash=hash_token(token), used_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


@tenant_scoped
def send_login_link(
    user: AbstractBaseUser,
    next_url: str | None = None,
    *,
    request: HttpRequest | None = None,
    background: bool | None = None,
    tenant: object = UNSET,
) -> LoginLinkResult:
    """Email ``user`` a sign-in link with the ``login_code`` template, now; the send's result.

    The template gets ``loginUrl``, ``name`` and ``expiresInMinutes``.
    Failures: ``inactive_user``, ``no_email``, ``rate_limited`` (with
    ``retry_after`` seconds), ``rate_limit_unavailable`` (the cache does not
    answer: the limits fail closed), ``urls_not_mounted`` (``patchbay.urls`` is not
    in the URLconf), ``no_public_url`` (live, without
    ``PATCHBAY_PUBLIC_URL`` nor ``request``: the link would be a bare path),
    and those of
    :func:`~patchbay.loops.shortcuts.send_template` (``not_configured``,
    ``suppressed``...). A token whose email was not sent is deleted; once the
    email is sent, the user's older links stop working
    (:setting:`PATCHBAY_MAGIC_LINK_REPLACES_OLDER`).
    ``request`` gives the client IP, for the per-IP limit and the record,
    and the link's scheme and host when ``PATCHBAY_PUBLIC_URL`` is not set.
    ``background`` (default :setting:`PATCHBAY_SEND_IN_BACKGROUND`): the token
    and link are made now and the email is sent from a task once the caller's
    transaction commits (see :func:`~patchbay.loops.templates.send_template`);
    the result then also has ``queued: True`` and ``email_id``.
    Arguments of the wrong type (a ``user`` that is not a saved user, a
    ``request`` that is not an ``HttpRequest``) are ``invalid_request``, and so
    is a ``next_url`` with a control character or longer than 2000 characters,
    refused before anything is stored.

    This sends while the caller waits, and it only has a user to send to: a
    sign-in form must not call it only for the addresses that have an account,
    or how long the form takes to answer tells which do. Use
    :func:`send_login_link_to_address` there.
    """
    try:
        request = http_request(request)
        next_url = _checked_next_url(next_url)
    except ServiceError as exc:
        return _refused(refusal(exc))
    from django.contrib.auth.base_user import AbstractBaseUser

    given: object = user  # typed a user, but anything may come
    if not isinstance(given, AbstractBaseUser) or given.pk is None:
        return _refused(
            failure(
                f"user must be a saved user, not {type(user).__name__}.",
                error_code="invalid_request",
            )
        )
    return _send_to_user(
        user,
        next_url,
        client_ip=ratelimit.client_ip(request),
        site=_site(request),
        limited=True,
        background=background,
    )


@tenant_scoped
def send_login_link_to_address(
    email: str,
    next_url: str | None = None,
    *,
    request: HttpRequest | None = None,
    tenant: object = UNSET,
) -> LoginLinkRequestResult:
    """Email a sign-in link to the active account using ``email``, if there is one.

    For a sign-in form: the request does the same work whether or not an
    account uses the address (it checks the arguments and counts the send
    limits, per address and per client IP), and the answer is the same,
    ``{"success": True}``; finding the account, making the token and sending
    the email happen after the response (see :mod:`patchbay.core.deferred`),
    where each outcome is logged. The address matches in any case.

    Failures, alike for every address: ``invalid_request`` (an ``email`` that
    is not an email address, a ``next_url`` as :func:`send_login_link` refuses
    it, a ``request`` that is not an ``HttpRequest``), ``rate_limited`` (with
    ``retry_after``; :setting:`PATCHBAY_MAGIC_LINK_SENDS_PER_USER` links per
    address, :setting:`PATCHBAY_MAGIC_LINK_SENDS_PER_IP` per client IP),
    ``rate_limit_unavailable``, ``urls_not_mounted`` and ``no_public_url``.
    """
    try:
        request = http_request(request)
        address = _checked_address(email)
        next_url = _checked_next_url(next_url)
        patchbay_path(URL_NAME, args=["token"])  # urls_not_mounted, for every address alike
    except ServiceError as exc:
        return _refused(refusal(exc))
    site = _site(request)
    if not conf.PUBLIC_URL and not site and not should_simulate():
        return _refused(_no_public_url())
    client_ip = ratelimit.client_ip(request)
    refused = _check_send_limits(("email", address.lower()), client_ip)
    if refused is not None:
        return refused
    deferred.run_after_response(
        _send_to_address, address, next_url, client_ip, site, tenant_key=_carried_tenant(tenant)
    )
    return {"success": True}


def send_login_code_email(
    user: AbstractBaseUser,
    next_url: str | None = None,
    *,
    request: HttpRequest | None = None,
    tenant: object = UNSET,
) -> None:
    """Email ``user`` a one-time sign-in link, after the response; returns None, as the spec says.

    After signing in, the user is sent to ``next_url`` if it is a URL of the
    same site, else to ``LOGIN_REDIRECT_URL``. The link is made and sent
    after the current response (at once outside a request; see
    :mod:`patchbay.core.deferred`), so the request takes no longer for the
    users it is called for. Nothing is sent to inactive users, users without
    an email address, suppressed addresses, past the send limits, or for a
    ``next_url`` :func:`send_login_link` refuses; each case is logged
    (without the link). It never raises. Use :func:`send_login_link` for the
    result, and :func:`send_login_link_to_address` for a sign-in form.
    """
    try:
        request = http_request(request)
        next_url = _checked_next_url(next_url)
        user_id = getattr(user, "pk", None)
        if user_id is None or isinstance(user_id, bool):
            raise ServiceError("user must be a saved user.", error_code="invalid_request")
        deferred.run_after_response(
            _send_to_user_id,
            str(user_id),
            next_url,
            ratelimit.client_ip(request),
            _site(request),
            tenant_key=_carried_tenant(tenant),
        )
    except ServiceError as exc:
        _log_unsent(getattr(user, "pk", None), refusal(exc))
    except Exception:  # the spec's None, whatever happens: a sign-in form must not fail
        logger.exception("No sign-in link was sent to user %s.", getattr(user, "pk", None))


# -- the send, now or after the response --------------------------------------------------


def _send_to_user(
    user: AbstractBaseUser,
    next_url: str,
    *,
    client_ip: str,
    site: str,
    limited: bool,
    background: bool | None = None,
) -> LoginLinkResult:
    if not getattr(user, "is_active", True):
        return _refused(failure("The user is inactive.", error_code="inactive_user"))
    email = str(getattr(user, getattr(user, "EMAIL_FIELD", "email"), "") or "")
    if not email:
        return _refused(failure("The user has no email address.", error_code="no_email"))
    if not conf.PUBLIC_URL and not site and not should_simulate():
        return _refused(_no_public_url())
    if limited:
        refused = _check_send_limits(("user", str(user.pk)), client_ip)
        if refused is not None:
            return refused
    token, row = create_login_token(user, next_url, ip_address=client_ip)
    try:
        link = _absolute(patchbay_path(URL_NAME, args=[token]), site)
    except ServiceError as exc:
        row.delete()
        return _refused(failure(exc.message, error_code=exc.error_code))
    result = send_template(
        "login_code",
        email,
        {
            "loginUrl": link,
            "name": display_name(user),
            "expiresInMinutes": conf.MAGIC_LINK_TTL_MINUTES,
        },
        background=background,
    )
    if not result["success"]:
        row.delete()  # nobody received it; keep no usable token around
        return _refused(result)
    if conf.MAGIC_LINK_REPLACES_OLDER:
        _expire_older_links(row)
    sent: LoginLinkSuccess = {
        "success": True,
        "login_token_id": row.pk,
        "expires_at": row.expires_at,
    }
    if result.get("queued"):
        sent["queued"] = True
        sent["email_id"] = cast("QueuedEmailSuccess", result)["email_id"]
    elif result.get("simulated"):
        sent["simulated"] = True
    return sent


def _carried_tenant(tenant: object) -> str | None:
    """``tenant`` (else the current one) as work done after the response takes it.

    A JSON value (the work may go to a task queue): the tenant's key, or None
    when nobody said, which stays "nobody said" there (``tenant_required``),
    never the site-wide configuration.
    """
    key, known = resolve_tenant_key(tenant)
    return key if known else None


def _carried(tenant_key: str | None) -> AbstractContextManager[None]:
    """The tenant ``_carried_tenant`` kept, in force again."""
    return use_tenant(UNSET if tenant_key is None else tenant_key)


def _send_to_user_id(
    user_id: str, next_url: str, client_ip: str, site: str, *, tenant_key: str | None = None
) -> None:
    """:func:`send_login_code_email`'s send, after the response."""
    with _carried(tenant_key):
        _send_to_user_id_now(user_id, next_url, client_ip, site)


def _send_to_user_id_now(user_id: str, next_url: str, client_ip: str, site: str) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None:
        logger.warning("No sign-in link was sent to user %s: the user no longer exists.", user_id)
        return
    result = _send_to_user(user, next_url, client_ip=client_ip, site=site, limited=True)
    if not result["success"]:
        _log_unsent(user_id, result)


def _send_to_address(
    address: str, next_url: str, client_ip: str, site: str, *, tenant_key: str | None = None
) -> None:
    """:func:`send_login_link_to_address`'s lookup and send, after the response."""
    with _carried(tenant_key):
        _send_to_address_now(address, next_url, client_ip, site)


def _send_to_address_now(address: str, next_url: str, client_ip: str, site: str) -> None:
    from django.contrib.auth import get_user_model

    model = get_user_model()
    lookup: dict[str, object] = {f"{model.get_email_field_name()}__iexact": address}
    if any(field.name == "is_active" for field in model._meta.concrete_fields):
        lookup["is_active"] = True
    users = list(model._default_manager.filter(**lookup))
    if not users:
        logger.info("No active account uses the address given; no sign-in link was sent.")
    for user in users:  # the limits were counted for the address, before the response
        result = _send_to_user(user, next_url, client_ip=client_ip, site=site, limited=False)
        if not result["success"]:
            _log_unsent(user.pk, result)


def _expire_older_links(row: LoginToken) -> None:
    """End the user's links made before ``row``: only the newest email signs in."""
    now = timezone.now()
    # The user's links of the same tenant: signing in to another tenant's site is apart.
    LoginToken.objects.for_tenant(row.tenant_key).filter(
        user_id=row.user_id, pk__lt=row.pk, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)


def _checked_address(email: object) -> str:
    address = text(email, "email", max_length=_MAX_EMAIL_LENGTH).strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ServiceError("email is not an email address.", error_code="invalid_request") from None
    return address


def _site(request: HttpRequest | None) -> str:
    """``scheme://host`` of ``request`` ("" without one, or for a host not allowed)."""
    if request is None:
        return ""
    try:
        return request.build_absolute_uri("/").removesuffix("/")
    except DisallowedHost:
        return ""


def _absolute(path: str, site: str) -> str:
    if conf.PUBLIC_URL:
        return conf.PUBLIC_URL + path
    return site + path


def _no_public_url() -> Failure:
    return failure(
        "PATCHBAY_PUBLIC_URL is not set and no request was given: the sign-in link "
        "would be a bare path, which no email client opens. Set PATCHBAY_PUBLIC_URL.",
        error_code="no_public_url",
    )


def _log_unsent(user_id: object, result: Failure) -> None:
    logger.warning(
        "No sign-in link was sent to user %s: [%s] %s",
        user_id,
        result["error_code"],
        result["error"],
    )


def _refused(result: Failure) -> RateLimitedFailure:
    # Only the send limits add retry_after, which is NotRequired: any failure is one.
    return cast("RateLimitedFailure", result)


def _check_send_limits(target: tuple[str, str], client_ip: str) -> RateLimitedFailure | None:
    """Count one sign-in link to ``target`` (by address or by user) against the limits."""
    return ratelimit.check_send_limits(
        "magic-link",
        target=target,
        client_ip=client_ip,
        per_target=conf.MAGIC_LINK_SENDS_PER_USER,
        per_ip=conf.MAGIC_LINK_SENDS_PER_IP,
        window=conf.MAGIC_LINK_WINDOW,
        requested="sign-in links",
    )
