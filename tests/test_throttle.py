"""The outbound rate limits (``patchbay.core.throttle``), on a fake clock.

The clock is ``time.time`` itself, replaced: the local-memory cache expires
its keys by it too (the tests use one even when the suite runs on Redis), so
a window ends when the fake clock says so. Sleeping
advances the clock instead of the test.
"""

from __future__ import annotations

import logging
import time
from email.utils import formatdate

import pytest
from django.core.cache import caches

from patchbay import checks
from patchbay.conf import conf, parse_rate
from patchbay.core import ratelimit, throttle
from patchbay.core.throttle import Throttle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch, settings):
    fake = FakeClock()
    monkeypatch.setattr(time, "time", fake.time)
    # A cache of local memory, even where the suite runs on Redis (whose clock is its own).
    settings.CACHES = {
        **settings.CACHES,
        "fake-clock": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.PATCHBAY_CACHE_ALIAS = "fake-clock"
    yield fake
    caches["fake-clock"].clear()


@pytest.fixture
def limits(settings):
    settings.PATCHBAY_RATE_LIMITS = {"loops": "3/s", "twilio": "5/m"}
    settings.PATCHBAY_RATE_LIMIT_MAX_WAIT = 5
    return settings


@pytest.fixture(autouse=True)
def _forget_cache_outages():
    throttle._cache_down_until.clear()
    throttle._not_held_until.clear()
    yield
    throttle._cache_down_until.clear()
    throttle._not_held_until.clear()


def loops(clock):
    return Throttle("loops", sleep=clock.sleep)


def test_calls_within_the_limit_go_at_once(clock, limits):
    limiter = loops(clock)
    assert [limiter.acquire() for _ in range(3)] == [None, None, None]
    assert clock.slept == []


def test_a_call_over_the_limit_sleeps_until_the_window_ends(clock, limits):
    limiter = loops(clock)
    for _ in range(3):
        limiter.acquire()
    clock.now += 0.25

    assert limiter.acquire() is None
    assert clock.slept == [pytest.approx(0.75)]
    # It opened the next window: two more turns in it, then a wait for the one after.
    assert [limiter.acquire(), limiter.acquire()] == [None, None]
    assert len(clock.slept) == 1
    limiter.acquire()
    assert clock.slept[1] == pytest.approx(1.0)


def test_every_client_of_a_provider_counts_against_one_limit(clock, limits, settings):
    settings.PATCHBAY_RATE_LIMIT_MAX_WAIT = 0
    for _ in range(3):
        assert loops(clock).acquire() is None
    assert loops(clock).acquire() == 1
    assert Throttle("stripe", sleep=clock.sleep).acquire() is None  # its own limit


def test_a_wait_longer_than_the_max_wait_is_refused_at_once(clock, limits):
    limiter = Throttle("twilio", sleep=clock.sleep)
    for _ in range(5):
        assert limiter.acquire() is None
    clock.now += 20

    assert limiter.acquire() == 40
    assert clock.slept == []


def test_a_max_wait_of_0_never_waits(clock, limits, settings):
    settings.PATCHBAY_RATE_LIMIT_MAX_WAIT = 0
    limiter = loops(clock)
    for _ in range(3):
        limiter.acquire()
    clock.now += 0.6

    assert limiter.acquire() == 1  # whole seconds, at least one
    assert clock.slept == []


def test_a_hold_stops_every_process_until_it_ends(clock, limits):
    loops(clock).hold(30)

    assert loops(clock).acquire() == 30
    clock.now += 29.5
    assert loops(clock).acquire() is None  # waited the last half second
    assert clock.slept == [pytest.approx(0.5)]


def test_a_hold_applies_to_a_provider_without_a_limit(clock, limits, settings):
    settings.PATCHBAY_RATE_LIMITS = {"stripe": None}
    stripe = Throttle("stripe", sleep=clock.sleep)
    assert stripe.rate is None
    assert stripe.acquire() is None

    stripe.hold(12)

    assert stripe.acquire() == 12
    clock.now += 12
    assert stripe.acquire() is None


def test_a_provider_without_a_limit_asks_the_cache_once_a_recheck_period(
    clock, settings, monkeypatch
):
    settings.PATCHBAY_RATE_LIMITS = {"stripe": None}
    settings.PATCHBAY_RATE_LIMIT_RECHECK_AFTER = 1.0
    monotonic = [100.0]
    monkeypatch.setattr(throttle.time, "monotonic", lambda: monotonic[0])
    asked = []
    held_for = ratelimit.held_for
    monkeypatch.setattr(
        ratelimit, "held_for", lambda *args, **kwargs: asked.append(1) or held_for(*args, **kwargs)
    )
    stripe = Throttle("stripe", sleep=clock.sleep)

    assert [stripe.acquire() for _ in range(5)] == [None] * 5
    assert len(asked) == 1
    ratelimit.hold(throttle.SCOPE, "stripe", 12)  # another process got a 429
    assert stripe.acquire() is None  # not seen yet: trusted for a second
    monotonic[0] += 1.0
    assert stripe.acquire() == 12
    assert len(asked) == 2


def test_a_429_of_this_process_holds_its_calls_at_once(clock, settings):
    settings.PATCHBAY_RATE_LIMITS = {"stripe": None}
    stripe = Throttle("stripe", sleep=clock.sleep)
    assert stripe.acquire() is None  # trusted from now on

    stripe.hold(12)

    assert stripe.acquire() == 12


@pytest.mark.parametrize(
    ("asked", "held"), [(None, throttle.DEFAULT_HOLD), (0, throttle.DEFAULT_HOLD), (3600, 60)]
)
def test_a_hold_without_a_usable_retry_after_is_short_and_none_is_long(
    clock, limits, settings, asked, held
):
    settings.PATCHBAY_RATE_LIMIT_MAX_WAIT = 0
    loops(clock).hold(asked)
    assert loops(clock).acquire() == held


def test_reset_forgets_the_window_and_the_hold(clock, limits):
    loops(clock).hold(30)
    loops(clock).reset()
    assert loops(clock).acquire() is None


def test_the_limits_fail_open_when_the_cache_is_down(clock, limits, monkeypatch, caplog):
    def cache_down(*args, **kwargs):
        raise ConnectionError("redis://:hunter2@cache.internal:6379 refused")

    monkeypatch.setattr(ratelimit, "count_use", cache_down)
    monkeypatch.setattr(ratelimit, "hold", cache_down)
    limiter = loops(clock)

    with caplog.at_level(logging.WARNING, logger="patchbay"):
        assert [limiter.acquire() for _ in range(10)] == [None] * 10
        limiter.hold(30)

    # Warned once, without the cache's address, then left alone for a few seconds.
    [warning] = caplog.records
    assert "calls go out uncounted" in warning.getMessage()
    assert "hunter2" not in warning.getMessage()
    assert "cache.internal" not in warning.getMessage()


def test_a_rate_the_checks_report_limits_nothing(clock, settings):
    settings.PATCHBAY_RATE_LIMITS = {"loops": "lots"}
    limiter = loops(clock)
    assert [limiter.acquire() for _ in range(20)] == [None] * 20


# -- the setting -------------------------------------------------------------------------


def test_the_defaults_limit_loops_and_stripe(settings):
    settings.PATCHBAY_RATE_LIMITS = None
    assert conf.RATE_LIMITS == {"loops": "10/s", "stripe": "25/s"}
    assert Throttle("twilio").rate is None


def test_the_setting_is_merged_over_the_defaults(settings):
    settings.PATCHBAY_RATE_LIMITS = {"twilio": "1/s", "stripe": None}
    assert conf.RATE_LIMITS == {"loops": "10/s", "stripe": None, "twilio": "1/s"}
    assert Throttle("stripe").rate is None


@pytest.mark.parametrize(
    ("text", "rate"), [("10/s", (10, 1)), (" 600 / m ", (600, 60)), ("5000/h", (5000, 3600))]
)
def test_rates(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0/s", "10/d", "10", "ten/s", "1.5/s", 10, None])
def test_not_rates(text):
    with pytest.raises(ValueError, match="is not a rate"):
        parse_rate(text)


@pytest.mark.parametrize(
    "value", [{"loops": "10/sec"}, {"loops": 10}, ["loops", "10/s"], "10/s", {1: "10/s"}]
)
def test_e060_rate_limits_that_are_not_rates(settings, value):
    settings.PATCHBAY_RATE_LIMITS = value
    [message] = [m for m in checks.check_settings_types() if m.id == "patchbay.E060"]
    assert "PATCHBAY_RATE_LIMITS must be a dict of rates by provider" in message.msg
    assert message.hint.startswith('For example {"loops": "10/s"')


def test_w060_a_limit_on_no_registered_service(settings):
    settings.PATCHBAY_RATE_LIMITS = {"lops": "5/s", "stripe": None}
    [message] = checks.check_rate_limits()
    assert message.id == "patchbay.W060"
    assert "'lops'" in message.msg
    assert message.hint.startswith("Did you mean 'lops' → 'loops'?")


def test_valid_rate_limits_pass(settings):
    settings.PATCHBAY_RATE_LIMITS = {"loops": "5/s", "twilio": "100/m", "stripe": None}
    assert checks.check_rate_limits() == []
    assert [m for m in checks.check_settings_types() if m.id == "patchbay.E060"] == []


# -- Retry-After -----------------------------------------------------------------------------


def test_retry_after_in_seconds_read_whatever_the_case():
    assert throttle.retry_after({"retry-after": "7"}) == 7
    assert throttle.retry_after({"Retry-After": " 2.5 "}) == 2.5


def test_retry_after_as_an_http_date(clock):
    assert throttle.retry_after({"Retry-After": formatdate(clock.now + 90, usegmt=True)}) == (
        pytest.approx(90)
    )


@pytest.mark.parametrize(
    "headers", [None, {}, {"Retry-After": ""}, {"Retry-After": "soon"}, {"Retry-After": "-3"}]
)
def test_no_usable_retry_after(headers):
    assert throttle.retry_after(headers) is None


def test_the_send_limits_still_count_in_whole_seconds(clock):
    # consume() (the inbound send limits) and count_use() share the counter.
    assert ratelimit.consume("x", "id", limit=1, window=60) is None
    clock.now += 0.5
    assert ratelimit.consume("x", "id", limit=1, window=60) == 60
    assert ratelimit.count_use("x", "id", limit=1, window=60) == pytest.approx(59.5)
