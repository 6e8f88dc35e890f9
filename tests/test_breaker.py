from __future__ import annotations

import pytest
from django.core.cache.backends.locmem import LocMemCache

from patchbay.core import breaker as breaker_module
from patchbay.core.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def time(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(breaker_module.time, "time", fake.time)
    return fake


def two_clients(name):
    """Two independent cache clients that share one store, like two processes on Redis."""
    return (
        LocMemCache(f"breaker-{name}", {}),
        LocMemCache(f"breaker-{name}", {}),
    )


def lifecycle(first, second, clock):
    assert first.state == CLOSED
    first.record_failure()
    second.record_failure()
    assert first.allow()
    assert second.allow()
    first.record_failure()  # third consecutive failure, counted across both clients
    assert second.state == OPEN
    assert not second.allow()
    assert not first.allow()

    clock.now += 31
    assert first.state == HALF_OPEN
    assert second.allow() is True  # the one trial call
    assert first.allow() is False  # everyone else waits for its outcome
    second.record_failure()
    assert first.state == OPEN

    clock.now += 31
    assert first.allow() is True
    first.record_success()
    assert second.state == CLOSED
    assert second.allow()
    assert second.failures == 0


def test_lifecycle_shared_between_two_cache_clients(clock):
    cache_a, cache_b = two_clients("lifecycle")
    lifecycle(
        CircuitBreaker("svc", threshold=3, cooldown=30, cache=cache_a),
        CircuitBreaker("svc", threshold=3, cooldown=30, cache=cache_b),
        clock,
    )


@pytest.mark.redis
def test_lifecycle_shared_between_two_redis_clients(redis_url, clock):
    from django_redis.cache import RedisCache

    options = {
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        "KEY_PREFIX": "breaker-test",
    }
    cache_a, cache_b = RedisCache(redis_url, options), RedisCache(redis_url, options)
    assert cache_a.client is not cache_b.client
    cache_a.clear()
    lifecycle(
        CircuitBreaker("svc", threshold=3, cooldown=30, cache=cache_a),
        CircuitBreaker("svc", threshold=3, cooldown=30, cache=cache_b),
        clock,
    )


def test_a_success_resets_the_consecutive_count(clock):
    cache, _ = two_clients("reset")
    breaker = CircuitBreaker("svc", threshold=2, cooldown=30, cache=cache)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == CLOSED


def test_defaults_come_from_settings(settings):
    settings.PATCHBAY_BREAKER_THRESHOLD = 7
    settings.PATCHBAY_BREAKER_COOLDOWN = 12
    breaker = CircuitBreaker("svc")
    assert (breaker.threshold, breaker.cooldown) == (7, 12)
    assert repr(breaker) == "<CircuitBreaker svc closed>"


def test_admit_says_when_a_success_has_nothing_to_reset(clock):
    cache, _ = two_clients("admit")
    breaker = CircuitBreaker("svc", threshold=2, cooldown=30, cache=cache)
    assert breaker.admit() == (True, True)  # closed, nothing counted: clients skip the reset
    breaker.record_failure()
    assert breaker.admit() == (True, False)  # a failure is counted: a success must reset it
    breaker.record_failure()
    assert breaker.admit() == (False, False)  # open
    clock.now += 31
    assert breaker.admit() == (True, False)  # the half-open trial
    assert breaker.admit() == (False, False)  # everyone else waits
    breaker.record_success()
    assert breaker.admit() == (True, True)


class TestRecheckAfter:
    """A clean breaker is trusted for a while; this process's own failures count at once."""

    def breaker(self, recheck_after):
        cache = LocMemCache("breaker-recheck", {})
        breaker = CircuitBreaker("recheck", threshold=1, cache=cache, recheck_after=recheck_after)
        breaker.reset()
        return breaker

    def open_from_another_process(self, breaker):
        breaker.cache.set(breaker._open_until_key, breaker_module.time.time() + 100)

    def test_another_process_opening_it_is_seen_after_the_interval(self, monkeypatch):
        breaker = self.breaker(recheck_after=30)
        assert breaker.admit() == (True, True)
        self.open_from_another_process(breaker)
        assert breaker.admit() == (True, True)  # still trusted: no cache read
        later = breaker_module.time.monotonic() + 31
        monkeypatch.setattr(breaker_module.time, "monotonic", lambda: later)
        assert breaker.admit() == (False, False)

    def test_zero_reads_the_cache_on_every_call(self):
        breaker = self.breaker(recheck_after=0)
        assert breaker.admit() == (True, True)
        self.open_from_another_process(breaker)
        assert breaker.admit() == (False, False)

    def test_this_process_failures_count_at_once(self):
        breaker = self.breaker(recheck_after=30)
        assert breaker.admit() == (True, True)
        breaker.record_failure()  # threshold 1: open
        assert breaker.admit() == (False, False)

    def test_the_default_comes_from_settings(self, settings):
        settings.PATCHBAY_BREAKER_RECHECK_AFTER = 2.5
        assert CircuitBreaker("x").recheck_after == 2.5
