"""Send limits counted in Django's cache, shared by every process when it is Redis.

Each limit is a counter created with ``cache.add`` (atomic: one process wins)
and advanced with ``cache.incr`` (atomic on Redis and in local memory), so
parallel requests cannot slip past it. The window starts with the first
counted send and lasts ``window`` seconds; a companion key remembers when it
ends, to tell refused callers how long to wait.

Phone verification codes and sign-in links are limited per target and per
client with :func:`check_send_limits`. The client is :func:`client_ip`: by
default ``request.META["REMOTE_ADDR"]``; behind a proxy, the address the
project's own proxies report in :setting:`PATCHBAY_CLIENT_IP_HEADER`, read
from the right past :setting:`PATCHBAY_TRUSTED_PROXIES`, so that no hop a
client writes is believed. A request without an address patchbay can read
(``REMOTE_ADDR`` is empty behind nginx talking to gunicorn over a unix socket)
is the one :data:`UNKNOWN_CLIENT`: all such requests share one limit, never
none, and the first one is logged as a warning. IPv6 clients are counted by
their /64 network, which one host has to itself.

The limits fail closed: when the cache does not answer, :func:`check_send_limits`
refuses the send with the retryable ``rate_limit_unavailable``. They are
security limits (against SMS pumping and flooded inboxes), and a send that
cannot be counted cannot be allowed.

The outbound rate limits (:mod:`patchbay.core.throttle`) count with the same
window counter (:func:`count_use`, :func:`hold`), and fail open.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from django.core.cache import BaseCache, caches

from patchbay.conf import conf
from patchbay.results import RateLimitedFailure, failure

if TYPE_CHECKING:
    from django.http import HttpRequest

    IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

logger = logging.getLogger("patchbay")

_PREFIX = "patchbay:ratelimit"
# What a held window counts: beyond any limit, and far from the counter's 64-bit end.
_HELD = 2**60
# The shortest wait count_use() gives: a window whose end has passed is about to expire.
_SHORTEST_WAIT = 0.01


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
    ``per_ip`` from one ``client_ip`` per ``window`` seconds (:func:`client_ip`'s
    answer: :data:`UNKNOWN_CLIENT` is one client like any other; "", a send
    made without a request, counts against its target only).
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
        limits.insert(0, (f"{scope}:ip", _bucket(client_ip), per_ip))
    for limit_scope, limit_identity, limit in limits:
        try:
            retry_after = consume(limit_scope, limit_identity, limit=limit, window=window)
        except Exception as exc:  # a cache backend's errors (redis, memcached) share no base
            return _unavailable(scope, requested, exc)
        if retry_after is not None:
            refused: RateLimitedFailure = {
                **failure(
                    f"Too many {requested} requested; try again in {wait_in_words(retry_after)}.",
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


#: The client of every request whose address cannot be read: they share one limit.
UNKNOWN_CLIENT = "unknown"
#: What has been warned about in this process (see :func:`client_ip`).
_warned_unknown: set[str] = set()


def client_ip(request: HttpRequest | None) -> str:
    """The address of the client that sent ``request``, for its send limits.

    ``REMOTE_ADDR`` by default; with :setting:`PATCHBAY_CLIENT_IP_HEADER`, the
    address that header gives, read as the module's docstring says.
    :data:`UNKNOWN_CLIENT` when there is none to read (logged once per process
    as a warning), "" without a request. IPv4-mapped IPv6 addresses are given
    as IPv4. :func:`storable_ip` of the answer is what to store.
    """
    if request is None:
        return ""
    # A value of the wrong type (patchbay.E036) reads as a header no request carries.
    header = str(conf.CLIENT_IP_HEADER or "")
    address = _from_header(request.META, header) if header else _address(_peer(request.META))
    if address is None:
        _warn_unknown(header)
        return UNKNOWN_CLIENT
    return address


def _peer(meta: Mapping[str, Any]) -> str:
    return str(meta.get("REMOTE_ADDR") or "")


def _from_header(meta: Mapping[str, Any], header: str) -> str | None:
    """The client the trusted proxies report in ``header``, or None."""
    value = str(meta.get(header) or "")
    # X-Forwarded-For: each proxy appends the address it saw; the client wrote the rest.
    hops = [hop.strip() for hop in value.split(",")] if value.strip() else []
    trusted = conf.TRUSTED_PROXIES
    networks = _networks(tuple(map(str, trusted))) if isinstance(trusted, (list, tuple)) else None
    if networks is None:
        count = trusted if isinstance(trusted, int) and not isinstance(trusted, bool) else 1
        count = max(1, count)
        # The outermost of `count` proxies appended what it saw: count hops from the right.
        return _address(hops[-count]) if len(hops) >= count else None
    peer = _peer(meta)
    peer_address = _address(peer)
    if peer_address is not None and not _trusted(peer_address, networks):
        # Not from a trusted proxy: the header is the client's own words; its address is not.
        return peer_address
    # An empty (or non-IP) REMOTE_ADDR is a unix socket: only a local proxy can reach it.
    for hop in reversed(hops):
        address = _address(hop)
        if address is None or not _trusted(address, networks):
            return address  # the first hop no trusted proxy vouches for
    return None


def _address(text: str) -> str | None:
    """``text`` as an IP address (a port or brackets around IPv6 removed), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port (some load balancers add it)
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


@functools.lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The networks of PATCHBAY_TRUSTED_PROXIES; invalid entries (patchbay.E037) left out."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _trusted(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == network.version and ip in network for network in networks)


def _bucket(client: str) -> str:
    """What one client's limit counts under: an IPv6 client's /64, which it has to itself."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client  # UNKNOWN_CLIENT
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return client


def _warn_unknown(header: str) -> None:
    situation = header or "REMOTE_ADDR"
    if situation in _warned_unknown:
        return
    _warned_unknown.add(situation)
    if header:
        where = f"its {header} does not hold an address past PATCHBAY_TRUSTED_PROXIES"
        fix = "Check that your proxy sets that header and PATCHBAY_TRUSTED_PROXIES"
    else:
        where = "its REMOTE_ADDR is empty or not an IP address (a proxy over a unix socket?)"
        fix = "Behind a proxy, set PATCHBAY_CLIENT_IP_HEADER (and PATCHBAY_TRUSTED_PROXIES)"
    logger.warning(
        "A request arrived without a client address patchbay can read: %s. Every such "
        "request counts against one shared limit of the per-IP send limits. %s; see "
        "patchbay's security documentation (client addresses). Logged once per process.",
        where,
        fix,
    )


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
    and well-formed whatever the input. The wait is whole seconds, at least
    one: what a ``Retry-After`` header says.
    """
    wait = count_use(scope, identity, limit=limit, window=window, cache=cache)
    return None if wait is None else max(1, math.ceil(wait))


def count_use(
    scope: str, identity: str, *, limit: int, window: int, cache: BaseCache | None = None
) -> float | None:
    """:func:`consume`, with the wait in fractions of a second (for a caller that sleeps)."""
    store = cache or caches[conf.CACHE_ALIAS]
    key = _key(scope, identity)
    # incr first: inside a window (most uses) it is the one round trip.
    try:
        count = store.incr(key)
    except ValueError:  # no window open: this use opens one (or another process just did)
        _open_window(store, key, window)
        count = store.incr(key)
    if count <= limit:
        return None
    resets_at = store.get(f"{key}:reset")
    if resets_at is None:
        return float(window)
    # The counter's own expiry may lag its recorded end by the cache's rounding.
    return max(_SHORTEST_WAIT, float(resets_at) - time.time())


def hold(scope: str, identity: str, seconds: float, *, cache: BaseCache | None = None) -> None:
    """Refuse every use of ``identity`` in ``scope`` for ``seconds``, in every process.

    The window is replaced by one that ends then and is counted full, so
    :func:`count_use` (whatever its limit) and :func:`held_for` answer with
    the time left.
    """
    store = cache or caches[conf.CACHE_ALIAS]
    key = _key(scope, identity)
    store.set_many(
        {key: _HELD, f"{key}:reset": time.time() + seconds}, timeout=max(1, math.ceil(seconds))
    )


def held_for(scope: str, identity: str, *, cache: BaseCache | None = None) -> float | None:
    """Seconds left of a :func:`hold` on ``identity`` in ``scope``, or None; counts nothing."""
    return _window_left(cache or caches[conf.CACHE_ALIAS], scope, identity, at_least=_HELD)


def next_use_in(
    scope: str, identity: str, *, limit: int, cache: BaseCache | None = None
) -> int | None:
    """Whole seconds until ``identity`` may use ``scope`` again, None if it may now; counts nothing.

    For advice: a page can say when a new code may be requested before the
    person tries. A cache that does not answer is None (the send itself is
    refused then, by :func:`check_send_limits`).
    """
    try:
        left = _window_left(cache or caches[conf.CACHE_ALIAS], scope, identity, at_least=limit)
    except Exception:  # a cache backend's errors share no base; the advice is only advice
        return None
    return None if left is None else max(1, math.ceil(left))


def _window_left(store: BaseCache, scope: str, identity: str, *, at_least: int) -> float | None:
    """Seconds left of ``identity``'s window in ``scope`` once it counts ``at_least``, or None."""
    key = _key(scope, identity)
    found = store.get_many([key, f"{key}:reset"])
    if int(found.get(key) or 0) < at_least or found.get(f"{key}:reset") is None:
        return None
    left = float(found[f"{key}:reset"]) - time.time()
    return left if left > 0 else None


def wait_in_words(seconds: float) -> str:
    """``seconds`` as a person says a wait: "40 seconds", "1 minute", "59 minutes", "2 hours".

    Rounded up, so the wait said is never shorter than the real one.
    """
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    if minutes < 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"{hours} hours"


def forget(scope: str, identity: str, *, cache: BaseCache | None = None) -> None:
    """Delete the window (or hold) of ``identity`` in ``scope``."""
    store = cache or caches[conf.CACHE_ALIAS]
    key = _key(scope, identity)
    store.delete_many([key, f"{key}:reset"])


def _key(scope: str, identity: str) -> str:
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"{_PREFIX}:{scope}:{digest}"


def _open_window(store: BaseCache, key: str, window: int) -> None:
    """Create the counter unless it exists; only the process that creates it sets the end."""
    if store.add(key, 0, window):
        store.set(f"{key}:reset", time.time() + window, window)
