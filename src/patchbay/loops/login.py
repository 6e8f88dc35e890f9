"""Sign-in links by email ("magic links"): one-time tokens and the email that carries them.

``send_login_code_email(user, next_url)`` makes a token, stores only its hash
and emails the link with the ``login_code`` template; the view at
``patchbay:magic-link-login`` (:mod:`patchbay.loops.views`) consumes the token
and signs the user in. A token is 32 random bytes from :mod:`secrets`, valid
for ``PATCHBAY_MAGIC_LINK_TTL_MINUTES``, usable once (one conditional
``UPDATE``, so two clicks never both sign in), and sends are limited per user
and per client IP so the feature cannot be used to flood someone's inbox.

The client IP is ``request.META["REMOTE_ADDR"]``, never ``X-Forwarded-For``
(see :mod:`patchbay.core.ratelimit` for setting it behind a proxy).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, cast

from django.utils import timezone

from patchbay.conf import conf
from patchbay.core import ratelimit
from patchbay.core.arguments import http_request, refusal
from patchbay.core.simulation import should_simulate
from patchbay.core.urls import patchbay_path
from patchbay.exceptions import ServiceError
from patchbay.loops.results import LoginLinkResult, LoginLinkSuccess
from patchbay.loops.templates import display_name, send_template
from patchbay.models import LoginToken
from patchbay.results import Failure, RateLimitedFailure, failure

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

logger = logging.getLogger("patchbay.loops")

URL_NAME = "patchbay:magic-link-login"
TOKEN_BYTES = 32
# Longer than any token we make; longer input is refused before hashing.
_MAX_TOKEN_LENGTH = 128


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
    """A new token for ``user`` and its stored row; the token itself is stored nowhere."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    max_length = LoginToken._meta.get_field("next_url").max_length or 0
    given: object = next_url  # typed str, but callers pass what a form posted
    if given and (not isinstance(given, str) or "\x00" in given):
        logger.warning("Dropped a next URL that is not a URL from a sign-in link.")
        next_url = ""
    elif next_url and len(next_url) > max_length:
        logger.warning("Dropped a next URL of %d characters from a sign-in link.", len(next_url))
        next_url = ""
    row = LoginToken.objects.create(
        user_id=user.pk,
        token_hash=hash_token(token),
        expires_at=timezone.now() + timedelta(minutes=conf.MAGIC_LINK_TTL_MINUTES),
        next_url=next_url or "",
        ip_address=ratelimit.storable_ip(ip_address),
    )
    return token, row


def login_link(token: str, request: HttpRequest | None = None) -> str:
    """The link to email: ``PATCHBAY_PUBLIC_URL`` + the view's path.

    Without the setting the link is made absolute with ``request``'s scheme and
    host, and without either it is a bare path, which only simulation accepts
    (see :func:`send_login_link`). Raises
    :exc:`~patchbay.exceptions.ServiceError` (``urls_not_mounted``) when
    ``patchbay.urls`` is not mounted.
    """
    path = patchbay_path(URL_NAME, args=[token])
    if conf.PUBLIC_URL:
        return conf.PUBLIC_URL + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


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


def send_login_link(
    user: AbstractBaseUser, next_url: str | None = None, *, request: HttpRequest | None = None
) -> LoginLinkResult:
    """Email ``user`` a sign-in link with the ``login_code`` template; the send's result.

    The template gets ``loginUrl``, ``name`` and ``expiresInMinutes``.
    Failures: ``inactive_user``, ``no_email``, ``rate_limited`` (with
    ``retry_after`` seconds), ``rate_limit_unavailable`` (the cache does not
    answer: the limits fail closed), ``urls_not_mounted`` (``patchbay.urls`` is not
    in the URLconf), ``no_public_url`` (live, without
    ``PATCHBAY_PUBLIC_URL`` nor ``request``: the link would be a bare path),
    and those of
    :func:`~patchbay.loops.shortcuts.send_template` (``not_configured``,
    ``suppressed``...). A token whose email was not sent is deleted.
    ``request`` gives the client IP, for the per-IP limit and the record,
    and the link's scheme and host when ``PATCHBAY_PUBLIC_URL`` is not set.
    Arguments of the wrong type (a ``user`` that is not a saved user, a
    ``request`` that is not an ``HttpRequest``) are ``invalid_request``.
    """
    from django.contrib.auth.base_user import AbstractBaseUser

    try:
        request = http_request(request)
    except ServiceError as exc:
        return _refused(refusal(exc))
    given: object = user  # typed a user, but anything may come
    if not isinstance(given, AbstractBaseUser) or given.pk is None:
        return _refused(
            failure(
                f"user must be a saved user, not {type(user).__name__}.",
                error_code="invalid_request",
            )
        )
    if not getattr(user, "is_active", True):
        return _refused(failure("The user is inactive.", error_code="inactive_user"))
    email = str(getattr(user, getattr(user, "EMAIL_FIELD", "email"), "") or "")
    if not email:
        return _refused(failure("The user has no email address.", error_code="no_email"))
    if not conf.PUBLIC_URL and request is None and not should_simulate():
        return _refused(
            failure(
                "PATCHBAY_PUBLIC_URL is not set and no request was given: the sign-in link "
                "would be a bare path, which no email client opens. Set PATCHBAY_PUBLIC_URL.",
                error_code="no_public_url",
            )
        )
    client_ip = ratelimit.client_ip(request)
    refused = ratelimit.check_send_limits(
        "magic-link",
        target=("user", str(user.pk)),
        client_ip=client_ip,
        per_target=conf.MAGIC_LINK_SENDS_PER_USER,
        per_ip=conf.MAGIC_LINK_SENDS_PER_IP,
        window=conf.MAGIC_LINK_WINDOW,
        requested="sign-in links",
    )
    if refused is not None:
        return refused
    token, row = create_login_token(user, next_url, ip_address=client_ip)
    try:
        link = login_link(token, request)
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
    )
    if not result["success"]:
        row.delete()  # nobody received it; keep no usable token around
        return _refused(result)
    sent: LoginLinkSuccess = {
        "success": True,
        "login_token_id": row.pk,
        "expires_at": row.expires_at,
    }
    if result.get("simulated"):
        sent["simulated"] = True
    return sent


def _refused(result: Failure) -> RateLimitedFailure:
    # Only the send limits add retry_after, which is NotRequired: any failure is one.
    return cast("RateLimitedFailure", result)


def send_login_code_email(
    user: AbstractBaseUser, next_url: str | None = None, *, request: HttpRequest | None = None
) -> None:
    """Email ``user`` a one-time sign-in link; returns None, as the spec says.

    After signing in, the user is sent to ``next_url`` if it is a URL of the
    same site, else to ``LOGIN_REDIRECT_URL``. Nothing is sent to inactive
    users, users without an email address, suppressed addresses, or past the
    send limits; each case is logged (without the link). Use
    :func:`send_login_link` for the result.
    """
    result = send_login_link(user, next_url, request=request)
    if not result["success"]:
        logger.warning(
            "No sign-in link was sent to user %s: [%s] %s",
            getattr(user, "pk", None),
            result["error_code"],
            result["error"],
        )
