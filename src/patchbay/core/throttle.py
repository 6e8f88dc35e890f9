"""Outbound rate limits: how fast patchbay calls each provider, shared by every process.

Each provider's :setting:`PATCHBAY_RATE_LIMITS` entry (``"10/s"``) is counted
with :mod:`patchbay.core.ratelimit`'s window counter, under one key per
provider in :setting:`PATCHBAY_CACHE_ALIAS`'s cache, so every process and
server that shares the cache (Redis in production) shares the limit. A call
over it sleeps until the window ends, as long as it can do so within
:setting:`PATCHBAY_RATE_LIMIT_MAX_WAIT` seconds; otherwise it is refused at
once with ``rate_limited`` and ``retry_after``.

A provider that answers 429 has the last word: the client puts the provider
on hold for the ``Retry-After`` it sent (:data:`DEFAULT_HOLD` without one),
and every process waits, or is refused, until then.

The limits fail open, unlike the inbound send limits: when the cache does
not answer, calls go out uncounted (and the cache is left alone for a few
seconds). They are a courtesy to the provider, which enforces its own limits
and answers 429 over them, whereas a cache outage that stopped every payment
and email would be an outage of the site.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from patchbay.conf import conf, parse_rate
from patchbay.core import ratelimit

logger = logging.getLogger("patchbay")

#: The ratelimit scope of the outbound limits; the identity is the provider.
SCOPE = "outbound"
#: Seconds a provider is held after a 429 that says nothing of when to try again.
DEFAULT_HOLD = 1.0
#: The longest hold a ``Retry-After`` gets (the SDKs' own retries wait no longer either).
LONGEST_HOLD = 60.0
# After a cache error a process leaves the cache alone this long (monotonic seconds).
_CACHE_RETRY_AFTER = 5.0
# Providers whose cache raised, with the monotonic time until which it is not asked again.
_cache_down_until: dict[str, float] = {}
# Providers without a limit found not on hold, with the monotonic time until which that is
# trusted (PATCHBAY_RATE_LIMIT_RECHECK_AFTER): their calls need no cache round trip each.
_not_held_until: dict[str, float] = {}


class Throttle:
    """The outbound rate limit of one provider: :meth:`acquire` before each live call.

    Per tenant (``tenant_key``): each tenant calls its own account, which has
    its own limit, at the provider's configured rate.
    """

    def __init__(
        self,
        provider: str,
        *,
        tenant_key: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.provider = provider
        #: What is counted and held: the provider's name for the site, as before tenants.
        self.name = f"{provider}@{tenant_key}" if tenant_key else provider
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<Throttle {self.name} {self.rate or 'unlimited'}>"

    @property
    def rate(self) -> str | None:
        """The provider's limit as configured (``"10/s"``), None when it has none."""
        rate = conf.RATE_LIMITS.get(self.provider)
        return rate if isinstance(rate, str) else None

    def acquire(self) -> int | None:
        """Take a turn to call the provider: None once taken, else whole seconds to wait.

        Sleeps while the turn comes within :setting:`PATCHBAY_RATE_LIMIT_MAX_WAIT`
        seconds; a longer wait is refused at once, with the seconds (at least one)
        the caller should wait. None as well when the cache does not answer.
        """
        deadline = time.time() + conf.RATE_LIMIT_MAX_WAIT
        while True:
            wait = self._wait()
            if wait is None:
                return None
            if time.time() + wait > deadline:
                return max(1, math.ceil(wait))
            self._sleep(wait)

    def hold(self, seconds: float | None) -> None:
        """Hold every process's calls to the provider for ``seconds`` (it answered 429)."""
        seconds = DEFAULT_HOLD if seconds is None or seconds <= 0 else min(seconds, LONGEST_HOLD)
        _not_held_until.pop(self.name, None)
        if self._cache_down():
            return
        try:
            ratelimit.hold(SCOPE, self.name, seconds)
        except Exception as exc:  # a cache backend's errors share no base class
            self._cache_failed(exc)

    def reset(self) -> None:
        """Forget the provider's window and hold, asking the cache again if it was down."""
        _cache_down_until.pop(self.name, None)
        _not_held_until.pop(self.name, None)
        try:
            ratelimit.forget(SCOPE, self.name)
        except Exception as exc:
            self._cache_failed(exc)

    def _wait(self) -> float | None:
        if self._cache_down():
            return None
        try:
            limit = parse_rate(self.rate) if self.rate is not None else None
        except ValueError:  # a rate patchbay.E060 reports: no limit, but holds still apply
            limit = None
        try:
            if limit is None:
                return self._held_for()
            calls, period = limit
            return ratelimit.count_use(SCOPE, self.name, limit=calls, window=period)
        except Exception as exc:
            self._cache_failed(exc)
            return None

    def _held_for(self) -> float | None:
        now = time.monotonic()
        if _not_held_until.get(self.name, 0.0) > now:
            return None
        held = ratelimit.held_for(SCOPE, self.name)
        if held is None:
            _not_held_until[self.name] = now + conf.RATE_LIMIT_RECHECK_AFTER
        return held

    def _cache_down(self) -> bool:
        return _cache_down_until.get(self.name, 0.0) > time.monotonic()

    def _cache_failed(self, exc: Exception) -> None:
        # The exception's type only: its text may name the cache's address.
        logger.warning(
            "The outbound rate limit of %s cannot reach the cache (%s); calls go out "
            "uncounted, and the cache is asked again in %d s.",
            self.name,
            type(exc).__name__,
            _CACHE_RETRY_AFTER,
        )
        _cache_down_until[self.name] = time.monotonic() + _CACHE_RETRY_AFTER


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """The seconds a ``Retry-After`` header in ``headers`` asks for, or None.

    Either form of RFC 9110: a number of seconds or an HTTP date. ``headers``
    is read without regard to case, as HTTP names are.
    """
    if not headers:
        return None
    value = next(
        (str(value) for name, value in headers.items() if str(name).lower() == "retry-after"),
        "",
    ).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None
