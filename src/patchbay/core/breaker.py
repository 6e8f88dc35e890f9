"""A circuit breaker whose state lives in Django's cache.

Keeping the state in the cache (django-redis in production) means every
worker process and server agrees on whether a service is short-circuited.
Only retryable failures (timeouts, connection errors, 5xx, 429) count: a
declined card or a validation error means the service is answering fine.

The breaker fails open: when the cache does not answer, calls go out as if it
were closed (a cache outage must not stop calls to healthy services) and
their failures are not counted. No method raises the cache's error.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import caches

from patchbay.conf import conf

logger = logging.getLogger("patchbay")

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
#: :attr:`CircuitBreaker.state` when the cache does not answer.
UNKNOWN = "unknown"

# Consecutive-failure counts older than this are forgotten.
_FAILURE_MEMORY = 24 * 3600
# After a cache error a process leaves the cache alone this long (monotonic seconds):
# each attempt may cost the cache client's socket timeout, on every call.
_CACHE_RETRY_AFTER = 5.0

# Breakers this process found closed with no failure counted, by key prefix, with
# the monotonic time until which it trusts that without asking the cache again.
_clean_until: dict[str, float] = {}
# Breakers whose cache raised, by key prefix, with the monotonic time until which
# this process does not ask it again.
_cache_down_until: dict[str, float] = {}


class CircuitBreaker:
    """Opens after ``threshold`` consecutive retryable failures for ``cooldown`` seconds.

    When the cool-down has passed one caller is let through as a trial: its
    success closes the breaker, its failure opens it again.
    """

    def __init__(
        self,
        name: str,
        *,
        threshold: int | None = None,
        cooldown: float | None = None,
        cache: Any = None,
        recheck_after: float | None = None,
    ) -> None:
        self.name = name
        self.threshold = threshold if threshold is not None else conf.BREAKER_THRESHOLD
        self.cooldown = cooldown if cooldown is not None else conf.BREAKER_COOLDOWN
        self.recheck_after = (
            recheck_after if recheck_after is not None else conf.BREAKER_RECHECK_AFTER
        )
        self.cache = cache if cache is not None else caches[conf.CACHE_ALIAS]
        prefix = self._prefix = f"patchbay:breaker:{name}"
        self._failures_key = f"{prefix}:failures"
        self._open_until_key = f"{prefix}:open_until"
        self._trial_key = f"{prefix}:trial"

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name} {self.state}>"

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"`` (cool-down over, trial pending).

        ``"unknown"`` when the cache does not answer (calls then go out).
        """
        try:
            open_until = self.cache.get(self._open_until_key)
        except Exception:  # a cache backend's errors share no base class
            return UNKNOWN
        if open_until is None:
            return CLOSED
        return OPEN if time.time() < open_until else HALF_OPEN

    @property
    def failures(self) -> int:
        """Consecutive retryable failures counted so far (0 when the cache does not answer)."""
        try:
            return int(self.cache.get(self._failures_key) or 0)
        except Exception:
            return 0

    def allow(self) -> bool:
        """Whether a call may go out now."""
        return self.admit()[0]

    def admit(self) -> tuple[bool, bool]:
        """``(allowed, clean)``: whether a call may go out now, and whether the breaker
        was closed with no failure counted, so that a success has nothing to reset.

        One cache read for both: a caller that got ``clean`` may skip
        :meth:`record_success` (a cache write, a network round trip with Redis).
        A clean breaker is trusted for ``recheck_after`` seconds without reading
        the cache again (a round trip per call is much of a call's cost against a
        fast service): another process's failures reach this one that much later,
        while this process's own failures count at once.

        When the cache does not answer, the call is allowed and clean (nothing
        to reset), and the cache is left alone for a few seconds.
        """
        now = time.monotonic()
        if self.recheck_after > 0 and _clean_until.get(self._prefix, 0.0) > now:
            return True, True
        if self._cache_down(now):
            return True, True
        try:
            return self._admit(now)
        except Exception as exc:  # a cache backend's errors share no base class
            self._cache_failed(exc)
            return True, True

    def _admit(self, now: float) -> tuple[bool, bool]:
        found = self.cache.get_many([self._open_until_key, self._failures_key])
        open_until = found.get(self._open_until_key)
        if open_until is None:
            clean = not found.get(self._failures_key)
            if clean and self.recheck_after > 0:
                _clean_until[self._prefix] = now + self.recheck_after
            return True, clean
        if time.time() < open_until:
            return False, False
        # Half-open: cache.add is atomic, so exactly one caller wins the trial.
        return bool(self.cache.add(self._trial_key, 1, timeout=max(1, int(self.cooldown)))), False

    def record_success(self) -> None:
        """Close the breaker: the service answered."""
        _clean_until.pop(self._prefix, None)
        if self._cache_down(time.monotonic()):
            return
        try:
            self.cache.delete_many([self._failures_key, self._open_until_key, self._trial_key])
        except Exception as exc:
            self._cache_failed(exc)

    def record_failure(self) -> None:
        """Count a retryable failure; open the breaker at the threshold or on a failed trial.

        Not counted when the cache does not answer.
        """
        _clean_until.pop(self._prefix, None)
        if self._cache_down(time.monotonic()):
            return
        try:
            self._record_failure()
        except Exception as exc:
            self._cache_failed(exc)

    def reset(self) -> None:
        """Forget all state (the breaker is closed), asking the cache again if it was down."""
        _cache_down_until.pop(self._prefix, None)
        self.record_success()

    def _record_failure(self) -> None:
        open_until = self.cache.get(self._open_until_key)
        if open_until is not None and time.time() >= open_until:  # half-open: the trial failed
            self._open()
            return
        self.cache.add(self._failures_key, 0, timeout=_FAILURE_MEMORY)
        try:
            failures = self.cache.incr(self._failures_key)
        except ValueError:  # expired between add and incr
            self.cache.set(self._failures_key, 1, timeout=_FAILURE_MEMORY)
            failures = 1
        if failures >= self.threshold:
            self._open()

    def _cache_down(self, now: float) -> bool:
        return _cache_down_until.get(self._prefix, 0.0) > now

    def _cache_failed(self, exc: Exception) -> None:
        # The exception's type only: its text may name the cache's address.
        logger.warning(
            "The circuit breaker of %s cannot reach the cache (%s); calls go out as if it "
            "were closed, and the cache is asked again in %d s.",
            self.name,
            type(exc).__name__,
            _CACHE_RETRY_AFTER,
        )
        _cache_down_until[self._prefix] = time.monotonic() + _CACHE_RETRY_AFTER

    def _open(self) -> None:
        self.cache.set(
            self._open_until_key,
            time.time() + self.cooldown,
            timeout=int(self.cooldown) + _FAILURE_MEMORY,
        )
        self.cache.delete(self._trial_key)
