"""Live calls take their provider's outbound turn; a provider's 429 holds every process off."""

from __future__ import annotations

import pytest
import responses

from patchbay.core.throttle import Throttle
from patchbay.loops.client import LoopsClient
from patchbay.models import IntegrationLog
from patchbay.stripe.client import StripeClient
from patchbay.twilio.client import TwilioClient
from tests.dummy import DummyClient
from tests.loops.helpers import API as LOOPS_API
from tests.loops.helpers import live_loops
from tests.stripe.conftest import API as STRIPE_API
from tests.stripe.conftest import live_stripe, stripe_error
from tests.twilio.helpers import API as TWILIO_API
from tests.twilio.helpers import TO, live_twilio, twilio_error

pytestmark = pytest.mark.django_db
__all__ = ["live_loops", "live_stripe", "live_twilio"]

SLOW_DOWN = {"success": False, "message": "Slow down"}


@pytest.fixture
def no_waiting(settings):
    settings.PATCHBAY_RATE_LIMIT_MAX_WAIT = 0
    return settings


def logged_codes():
    return list(IntegrationLog.objects.order_by("pk").values_list("error_code", flat=True))


@responses.activate
def test_a_call_over_the_limit_is_refused_unsent_and_recorded(live_loops, no_waiting):
    live_loops.PATCHBAY_RATE_LIMITS = {"loops": "2/m"}
    api_key = responses.get(f"{LOOPS_API}/api-key", json={"success": True, "teamName": "T"})

    results = [LoopsClient().check_health() for _ in range(3)]

    assert [result["success"] for result in results] == [True, True, False]
    refused = results[2]
    assert refused["error_code"] == "rate_limited"
    assert refused["retryable"] is True
    assert 0 < refused["retry_after"] <= 60
    assert refused["error"].startswith("Not sent to Loops: its outbound rate limit (2/m)")
    assert api_key.call_count == 2
    assert logged_codes() == ["", "", "rate_limited"]


@responses.activate
def test_a_loops_429_with_retry_after_holds_off_every_client(live_loops, no_waiting):
    live_loops.PATCHBAY_MAX_RETRIES = 0
    api_key = responses.get(
        f"{LOOPS_API}/api-key", status=429, json=SLOW_DOWN, headers={"Retry-After": "30"}
    )

    first = LoopsClient().check_health()
    second = LoopsClient().check_health()  # another client, as in another process

    assert (first["error_code"], first["retry_after"], first["error"]) == (
        "rate_limited",
        30,
        "Slow down",
    )
    assert (second["error_code"], second["retry_after"]) == ("rate_limited", 30)
    assert api_key.call_count == 1
    assert logged_codes() == ["rate_limited", "rate_limited"]


@responses.activate
def test_a_loops_429_without_retry_after_holds_off_briefly(live_loops, no_waiting):
    live_loops.PATCHBAY_MAX_RETRIES = 0
    responses.get(
        f"{LOOPS_API}/api-key",
        status=429,
        json=SLOW_DOWN,
        headers={"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0"},
    )

    assert LoopsClient().check_health()["retry_after"] == 1
    assert Throttle("loops").acquire() == 1


@responses.activate
def test_a_stripe_rate_limit_error_holds_off_every_client(live_stripe, no_waiting):
    customers = responses.post(
        f"{STRIPE_API}/customers",
        **stripe_error("invalid_request_error", "Too many requests", 429, "rate_limit"),
        headers={"Retry-After": "8", "Stripe-Should-Retry": "false"},
    )

    first = StripeClient().create_customer("a@b.co")
    second = StripeClient().create_customer("a@b.co")

    assert (first["error_code"], first["retry_after"]) == ("rate_limited", 8)
    assert (second["error_code"], second["retry_after"]) == ("rate_limited", 8)
    assert customers.call_count == 1


@responses.activate
def test_a_twilio_20429_holds_off_briefly(live_twilio, no_waiting):
    messages = responses.post(
        f"{TWILIO_API}/Messages.json", **twilio_error(20429, "Too Many Requests", 429)
    )

    first = TwilioClient().send_sms(TO, "Hi")
    second = TwilioClient().send_sms(TO, "Hi")

    # Twilio's exception keeps no headers: the short default hold.
    assert (first["error_code"], first["retry_after"]) == ("rate_limited", 1)
    assert (second["error_code"], second["retry_after"]) == ("rate_limited", 1)
    assert messages.call_count == 1


def test_simulated_calls_are_not_limited(settings):
    settings.PATCHBAY_SIMULATE = True
    settings.PATCHBAY_RATE_LIMITS = {"loops": "1/h"}
    results = [LoopsClient().check_health() for _ in range(5)]
    assert all(result["success"] for result in results)


def test_local_calls_are_not_limited(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.DUMMY_API_KEY = "dummy-key"
    settings.PATCHBAY_RATE_LIMITS = {"dummy": "1/h"}
    settings.PATCHBAY_RATE_LIMIT_MAX_WAIT = 0
    client = DummyClient()

    def sign():
        return client.call("sign", lambda: {"url": "signed"}, simulate=dict, local=True)

    assert [sign()["success"] for _ in range(3)] == [True, True, True]
    assert client.create_item("a")["success"] is True  # the only live turn of the hour
    assert client.create_item("b")["error_code"] == "rate_limited"


@responses.activate
def test_a_limit_on_one_number_holds_no_other_call(live_twilio, no_waiting, settings):
    settings.TWILIO_VERIFY_SERVICE_SID = "VA" + "0" * 32
    responses.post(
        f"https://verify.twilio.com/v2/Services/{settings.TWILIO_VERIFY_SERVICE_SID}/Verifications",
        **twilio_error(60203, "Max send attempts reached", 429),
    )

    refused = TwilioClient().start_verification(TO)

    assert refused["error_code"] == "rate_limited"
    assert "retry_after" not in refused
    assert Throttle("twilio").acquire() is None
