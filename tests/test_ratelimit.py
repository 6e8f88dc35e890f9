"""The send limits shared by phone verification and sign-in links (``patchbay.core.ratelimit``)."""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from patchbay.conf import conf
from patchbay.core import ratelimit


@pytest.fixture(autouse=True)
def empty_cache():
    caches[conf.CACHE_ALIAS].clear()
    yield
    caches[conf.CACHE_ALIAS].clear()


def check(target="+14155552671", client_ip="203.0.113.1", *, per_target=2, per_ip=5):
    return ratelimit.check_send_limits(
        "phone-verification",
        target=("number", target),
        client_ip=client_ip,
        per_target=per_target,
        per_ip=per_ip,
        window=60,
        requested="codes",
    )


def counter(scope, identity):
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return caches[conf.CACHE_ALIAS].get(f"patchbay:ratelimit:{scope}:{digest}")


def test_counts_under_the_keys_the_services_always_used():
    assert check() is None

    assert counter("phone-verification:number", "+14155552671") == 1
    assert counter("phone-verification:ip", "203.0.113.1") == 1


def test_over_the_target_limit_is_a_retryable_failure_naming_what_was_requested():
    assert check() is None
    assert check() is None
    refused = check()

    assert refused is not None
    assert refused["error_code"] == "rate_limited"
    assert refused["retryable"] is True
    assert 0 < refused["retry_after"] <= 60
    assert refused["error"].startswith("Too many codes requested; try again in ")


def test_a_client_over_its_limit_uses_none_of_the_targets_quota():
    assert check("+14155552671", per_ip=1) is None
    assert check("+14155552672", per_ip=1) is not None

    assert counter("phone-verification:number", "+14155552672") is None


def test_without_a_client_ip_only_the_target_counts():
    assert check(client_ip="") is None

    assert counter("phone-verification:number", "+14155552671") == 1
    assert counter("phone-verification:ip", "") is None


def test_the_client_ip_is_remote_addr_never_a_forwarded_header():
    request = RequestFactory().post(
        "/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )

    assert ratelimit.client_ip(request) == "203.0.113.7"
    assert ratelimit.client_ip(None) == ""


@pytest.mark.parametrize(
    ("value", "stored"),
    [("203.0.113.7", "203.0.113.7"), ("2001:DB8::1", "2001:db8::1"), ("", None), (None, None)],
)
def test_storable_ip(value, stored):
    assert ratelimit.storable_ip(value) == stored
    assert ratelimit.storable_ip("unix:/run/app.sock") is None


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "1 second"),
        (40, "40 seconds"),
        (59.5, "1 minute"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (3540, "59 minutes"),
        (3600, "60 minutes"),
        (5340, "89 minutes"),
        (5401, "2 hours"),
        (86400, "24 hours"),
    ],
)
def test_waits_in_words_round_up(seconds, words):
    assert ratelimit.wait_in_words(seconds) == words


def test_next_use_in_counts_nothing():
    assert ratelimit.next_use_in("peek", "a", limit=1) is None
    assert ratelimit.consume("peek", "a", limit=1, window=600) is None
    for _ in range(3):  # asking does not use up anything
        assert 599 <= ratelimit.next_use_in("peek", "a", limit=1) <= 600
    assert ratelimit.next_use_in("peek", "a", limit=2) is None
    assert ratelimit.consume("peek", "a", limit=2, window=600) is None
