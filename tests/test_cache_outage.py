"""When the cache does not answer: send limits fail closed, the circuit breaker fails open.

Every use of the cache in a call answers a result, never the cache's
exception: a phone code or a sign-in link is refused with the retryable
``rate_limit_unavailable`` (the limits stand between an attacker and an SMS
bill or a flooded inbox), while calls to healthy providers go on as if the
breaker were closed.
"""

from __future__ import annotations

import logging

import pytest
import responses
from django.core.cache.backends.base import BaseCache

from patchbay.core import breaker as breaker_module
from patchbay.core import ratelimit
from patchbay.core.breaker import CircuitBreaker
from patchbay.core.simulation import outbox
from patchbay.loops import login
from patchbay.loops.client import LoopsClient
from patchbay.models import LoginToken, PhoneVerification
from patchbay.status import service_status
from patchbay.twilio.verification import initiate_phone_verification
from tests.loops.helpers import API as LOOPS_API
from tests.loops.helpers import TEMPLATES
from tests.test_cache_checks import django_redis_cache, free_port

pytestmark = pytest.mark.django_db

TO = "+14155552671"


class BrokenCache(BaseCache):
    """A cache backend whose every operation fails, as a backend's own error."""

    def __init__(self, location, params):
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        raise RuntimeError("the cache backend is down")

    add = get = set = touch = delete = clear = incr = get_many = set_many = delete_many = _fail
    has_key = _fail


@pytest.fixture(params=["closed-port", "raising"])
def cache_down(request, settings):
    """``CACHES`` pointing at a Redis nobody listens on, or at a backend that raises."""
    if request.param == "closed-port":
        settings.CACHES = django_redis_cache(f"redis://127.0.0.1:{free_port()}/0")
    else:
        settings.CACHES = {"default": {"BACKEND": "tests.test_cache_outage.BrokenCache"}}
    return settings


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw")


def assert_unavailable(result):
    assert result["success"] is False
    assert result["error_code"] == "rate_limit_unavailable"
    assert result["retryable"] is True
    assert "retry_after" not in result  # nobody knows when the cache is back


# -- the send limits fail closed ---------------------------------------------------------


def test_no_phone_code_is_sent_without_the_limits(cache_down, caplog):
    cache_down.PATCHBAY_SIMULATE = True
    with caplog.at_level(logging.WARNING, logger="patchbay"):
        result = initiate_phone_verification(TO)
    assert_unavailable(result)
    assert not PhoneVerification.objects.exists()
    assert len(outbox) == 0
    assert "phone-verification" in caplog.text


def test_the_verification_endpoint_answers_503(cache_down, client):
    cache_down.PATCHBAY_SIMULATE = True
    response = client.post("/integrations/phone/verify/start/", {"phone_number": TO})
    assert response.status_code == 503
    assert response.json()["error_code"] == "rate_limit_unavailable"


def test_no_sign_in_link_is_sent_without_the_limits(cache_down, user, caplog):
    cache_down.PATCHBAY_SIMULATE = True
    cache_down.LOOPS_TRANSACTIONAL_IDS = TEMPLATES
    assert_unavailable(login.send_login_link(user))
    with caplog.at_level(logging.WARNING, logger="patchbay"):
        assert login.send_login_code_email(user) is None  # the spec's None, logged
    assert "rate_limit_unavailable" in caplog.text
    assert not LoginToken.objects.exists()
    assert len(outbox) == 0


def test_the_limits_answer_a_failure_not_the_cache_error(cache_down):
    refused = ratelimit.check_send_limits(
        "test",
        target=("number", TO),
        client_ip="203.0.113.9",
        per_target=3,
        per_ip=10,
        window=60,
        requested="codes",
    )
    assert_unavailable(refused)
    assert "codes" in refused["error"]


# -- the circuit breaker fails open ------------------------------------------------------


@responses.activate
def test_calls_to_a_healthy_provider_go_on(cache_down):
    cache_down.PATCHBAY_SIMULATE = False
    cache_down.LOOPS_API_KEY = "loops-key"
    responses.get(f"{LOOPS_API}/api-key", json={"success": True, "teamName": "Acme"})
    client = LoopsClient()
    assert client.test_api_key() == {"success": True, "valid": True, "team_name": "Acme"}
    assert client.test_api_key()["success"]  # the outage remembered: no second wait


@responses.activate
def test_a_failing_provider_still_answers_its_failure(cache_down):
    cache_down.PATCHBAY_SIMULATE = False
    cache_down.LOOPS_API_KEY = "loops-key"
    responses.get(f"{LOOPS_API}/api-key", status=500, json={"message": "down"})
    result = LoopsClient().test_api_key()
    assert result["success"] is False
    assert result["retryable"] is True


def test_the_breaker_never_raises(caplog):
    breaker = CircuitBreaker("cache-outage", cache=BrokenCache("", {}), threshold=1)
    for method in (breaker.reset, breaker.record_failure, breaker.record_success, breaker.admit):
        breaker_module._cache_down_until.clear()  # the next method asks the cache again
        caplog.clear()
        method()
        assert "cannot reach the cache (RuntimeError)" in caplog.text
    assert breaker.admit() == (True, True)  # fails open
    assert breaker.allow()
    assert breaker.state == "unknown"
    assert breaker.failures == 0


def test_the_breaker_leaves_a_cache_that_failed_alone_for_a_while():
    calls = []

    class CountingBrokenCache(BrokenCache):
        def get_many(self, *args, **kwargs):
            calls.append("get_many")
            return super().get_many(*args, **kwargs)

    breaker = CircuitBreaker("cache-outage-2", cache=CountingBrokenCache("", {}))
    for _ in range(5):
        assert breaker.admit() == (True, True)
        breaker.record_failure()
    assert calls == ["get_many"]


def test_the_status_report_shows_the_breaker_unknown(cache_down):
    from patchbay.loops.client import LoopsClient

    assert service_status(LoopsClient)["breaker"] == "unknown"
