"""Send limits counted in Django's cache, shared by every process when it is Redis.

Each limit is a counter created with ``cache.add`` (atomic: one process wins)
and advanced with ``cache.incr`` (atomic on Redis and in local memory), so
parallel requests cannot slip past it. The window starts with the first
counted send and lasts ``window`` seconds; a companion key remembers when it
ends, to tell refused callers how long to wait.

Phone verification codes and sign-in links are limited per target and per
client IP with :func:`check_send_limits`. The client IP is
``request.META["REMOTE_ADDR"]`` (:func:`client_ip`): behind a proxy or load
balancer the project must set ``REMOTE_ADDR`` to the real client, with
middleware that trusts only its own proxy's header. ``X-Forwarded-For`` is
never read: any client can forge it to escape the per-IP limit.

The limits fail closed: when the cache does not answer, :func:`check_send_limits`
refuses the send with the retryable ``rate_limit_unavailable``. They are
security limits (against SMS pumping and flooded inboxes), and a send that
cannot be counted cannot be allowed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from typing import TYPE_CHECKING, cast

from django.core.cache import BaseCache, caches

from patchbay.conf import conf
from patchbay.results import RateLimitedFailure, failure

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger("patchbay")

_PREFIX = "patchbay:ratelimit"


def check_send_limits(
    scope: str,
    *,
    target: tuple[str, str],
    client_ip: str,
    per_target: int,
    per_ip: int,
    window: int,
    requested: str,
) -> RateLimitedFailure | None:
    """Count one send in ``scope``: a ``rate_limited`` failure if it is over a limit, else None.

    ``target`` is whom the send reaches, as ``(kind, identity)``:
    ``("number", "+1…")``. Limits: ``per_target`` sends to one target and
    ``per_ip`` from one ``client_ip`` (when known) per ``window`` seconds.
    The IP is counted first and counting stops at the first limit exceeded,
    so a client already over its own limit cannot use up the quota of the
    targets it tries. The failure says ``Too many <requested> requested`` and
    has ``retry_after`` seconds. When the cache does not answer the send is
    refused too, with ``rate_limit_unavailable`` (retryable, without
    ``retry_after``): the limits fail closed.
    """
    kind, identity = target
    limits = [(f"{scope}:{kind}", identity, per_target)]
    if client_ip:
        limits.insert(0, (f"{scope}:ip", client_ip, per_ip))
    for limit_scope, limit_identity, limit in limits:
        try:
            retry_after = consume(limit_scope, limit_identity, limit=limit, window=window)
        except Exception as exc:  # a cache backend's errors (redis, memcached) share no base
            return _unavailable(scope, requested, exc)
        if retry_after is not None:
            refused: RateLimitedFailure = {
                **failure(
                    f"Too many {requested} requested; try again in {retry_after} seconds.",
                    error_code="rate_limited",
                    retryable=True,
                ),
                "retry_after": retry_after,
            }
            return refused
    return None


def _unavailable(scope: str, requested: str, exc: Exception) -> RateLimitedFailure:
    # The exception's type only: its text may name the cache's address.
    logger.warning(
        "Refused a send in %s: its limits could not be counted, the cache %r raised %s.",
        scope,
        conf.CACHE_ALIAS,
        type(exc).__name__,
    )
    unavailable = failure(
        f"No {requested} can be sent right now: the send limits cannot be checked (the "
        "cache does not answer). Try again in a moment.",
        error_code="rate_limit_unavailable",
        retryable=True,
    )
    # retry_after is NotRequired: a failure without it is a RateLimitedFailure as it is.
    return cast("RateLimitedFailure", unavailable)


def client_ip(request: HttpRequest | None) -> str:
    """``request``'s ``REMOTE_ADDR`` as given ("" without a request); see the module's docstring."""
    return str(request.META.get("REMOTE_ADDR") or "") if request is not None else ""


def storable_ip(value: str | None) -> str | None:
    """``value`` if it is an IP address (what a ``GenericIPAddressField`` accepts), else None."""
    try:
        return str(ipaddress.ip_address(value or ""))
    except ValueError:
        return None


def consume(
    scope: str, identity: str, *, limit: int, window: int, cache: BaseCache | None = None
) -> int | None:
    """Count one use of ``identity`` in ``scope``: None if allowed, else seconds to wait.

    ``identity`` (a number, an IP) is hashed into the key, so keys stay short
    and well-formed whatever the input.
    """
    store = cache or caches[conf.CACHE_ALIAS]
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    key = f"{_PREFIX}:{scope}:{digest}"
    _open_window(store, key, window)
    try:
        count = store.incr(key)
    except ValueError:  # the window ended between add and incr: this use opens a new one
        _open_window(store, key, window)
        count = store.incr(key)
    if count <= limit:
        return None
    resets_at = store.get(f"{key}:reset")
    if resets_at is None:
        return window
    return max(1, math.ceil(float(resets_at) - time.time()))


def _open_window(store: BaseCache, key: str, window: int) -> None:
    """Create the counter unless it exists; only the process that creates it sets the end."""
    if store.add(key, 0, window):
        store.set(f"{key}:reset", time.time() + window, window)
