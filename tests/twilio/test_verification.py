from __future__ import annotations

import json
import re
import secrets
from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import responses
from django.contrib.auth import get_user_model
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from patchbay.core import ratelimit
from patchbay.core.simulation import outbox
from patchbay.models import SMS, IntegrationLog, PhoneOptOut, PhoneVerification
from patchbay.twilio import codes
from patchbay.twilio.verification import initiate_phone_verification, verify_phone_code
from patchbay.twilio.verification_views import NEUTRAL_CHECK
from tests.conftest import run_concurrently
from tests.twilio.helpers import API, TO, live_twilio, message_json, twilio_error

__all__ = ["live_twilio"]

OTHER = "+14155552672"
SERVICE_SID = "VA" + "b" * 32
VERIFY_API = f"https://verify.twilio.com/v2/Services/{SERVICE_SID}"
START_URL = "/integrations/phone/verify/start/"
CHECK_URL = "/integrations/phone/verify/check/"


@pytest.fixture
def simulated(settings, db):
    settings.PATCHBAY_SIMULATE = True
    return settings


@pytest.fixture
def twilio_verify(live_twilio):
    live_twilio.PATCHBAY_PHONE_VERIFICATION_BACKEND = "twilio_verify"
    live_twilio.TWILIO_VERIFY_SERVICE_SID = SERVICE_SID
    return live_twilio


def last_sms_body():
    return outbox.filter(provider="twilio", operation="send_sms")[-1].data["body"]


def sent_code():
    """The code of the last simulated SMS, read as a user would."""
    return re.search(r"\d{6}", last_sms_body()).group()


def send(phone=TO, ip="203.0.113.7"):
    return initiate_phone_verification(phone, RequestFactory().post("/", REMOTE_ADDR=ip))


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


# -- codes ---------------------------------------------------------------------------------


class TestCodes:
    def test_six_digits_from_secrets(self):
        with mock.patch.object(codes.secrets, "randbelow", return_value=42) as randbelow:
            assert codes.generate_code() == "000042"
        randbelow.assert_called_once_with(10**6)
        drawn = {codes.generate_code() for _ in range(200)}
        assert all(re.fullmatch(r"\d{6}", code) for code in drawn)
        assert len(drawn) > 190

    def test_hash_is_keyed_with_secret_key(self, settings):
        digest = codes.hash_code(TO, "123456")
        assert re.fullmatch(r"[0-9a-f]{64}", digest)
        assert digest != codes.hash_code(OTHER, "123456")
        settings.SECRET_KEY = "another-secret-key"
        assert codes.hash_code(TO, "123456") != digest

    def test_code_matches(self):
        digest = codes.hash_code(TO, "123456")
        assert codes.code_matches(digest, TO, "123456")
        assert not codes.code_matches(digest, TO, "123457")
        assert not codes.code_matches(digest, OTHER, "123456")
        assert not codes.code_matches("", TO, "123456")

    @pytest.mark.parametrize(
        ("raw", "cleaned"),
        [("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456"), ("12345", None)],
    )
    def test_clean_code(self, raw, cleaned):
        assert codes.clean_code(raw) == cleaned

    @pytest.mark.parametrize("raw", ["", None, "abcdef", "123", "١٢٣٤٥٦", "12345\n6x", "1" * 11])
    def test_malformed_codes(self, raw):
        assert codes.clean_code(raw) is None
        assert codes.clean_code(raw, twilio_verify=True) is None

    def test_twilio_verify_codes_have_4_to_10_digits(self):
        assert codes.clean_code("1234567") is None
        assert codes.clean_code("1234", twilio_verify=True) == "1234"
        assert codes.clean_code("1234567890", twilio_verify=True) == "1234567890"


# -- sending ---------------------------------------------------------------------------------


class TestInitiate:
    def test_sends_a_code_and_stores_only_its_keyed_hash(self, simulated):
        with mock.patch.object(codes.secrets, "randbelow", return_value=914273):
            result = send()
        assert result["success"] is True
        assert result["phone_number"] == TO
        assert result["expires_in"] == 600
        sms = SMS.objects.get(pk=result["sms_id"])
        assert "914273" in last_sms_body()
        assert "914273" not in sms.body
        verification = PhoneVerification.objects.get()
        assert verification.sms == sms
        assert verification.code_hash == codes.hash_code(TO, "914273")
        assert abs(verification.expires_at - verification.created_at - timedelta(minutes=10)) < (
            timedelta(seconds=1)
        )
        assert verification.ip_address == "203.0.113.7"
        assert verification.user is None
        # No column of any row patchbay wrote holds the code in clear.
        for table in ("patchbay_phoneverification", "patchbay_sms", "patchbay_integrationlog"):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
                rows = cursor.fetchall()
            assert rows
            assert "914273" not in repr(rows)
        assert "914273" not in repr(verification)
        assert "914273" not in str(verification)

    def test_ttl_setting(self, simulated):
        simulated.PATCHBAY_PHONE_VERIFICATION_TTL = 60
        assert send()["expires_in"] == 60
        verification = PhoneVerification.objects.get()
        assert abs(verification.expires_at - verification.created_at - timedelta(seconds=60)) < (
            timedelta(seconds=1)
        )

    @pytest.mark.parametrize(
        ("number", "says"),
        [
            ("", "The phone number is empty"),
            ("hello", "not a valid phone number"),
            ("+1 555", "not a valid phone number"),
            ("12", "not a valid phone number"),
            ("+" + "9" * 300, "not a valid phone number"),
        ],
    )
    def test_invalid_numbers_are_refused_without_a_send(self, simulated, number, says):
        result = send(number)
        assert result["success"] is False
        assert result["error_code"] == "invalid_number"
        assert says in result["error"]
        assert len(outbox) == 0
        assert not PhoneVerification.objects.exists()
        assert not SMS.objects.exists()

    def test_records_the_authenticated_user(self, simulated):
        user = get_user_model().objects.create_user("alice")
        request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7")
        request.user = user
        assert initiate_phone_verification(TO, request)["success"]
        assert PhoneVerification.objects.get().user == user

    def test_without_a_request(self, simulated):
        assert initiate_phone_verification(TO)["success"]
        assert PhoneVerification.objects.get().ip_address is None

    def test_a_failed_send_leaves_no_usable_code(self, live_twilio, db):
        with responses.RequestsMock() as mocked:
            mocked.post(f"{API}/Messages.json", **twilio_error(21614, "Not a mobile number"))
            result = send()
        assert result["success"] is False
        assert result["error_code"] == "not_mobile"
        assert result["retryable"] is False
        assert "Not a mobile number" in result["error"]
        assert PhoneVerification.objects.get().invalidated_at is not None

    def test_live_send(self, live_twilio, db):
        with responses.RequestsMock() as mocked:
            mocked.post(f"{API}/Messages.json", json=message_json(), status=201)
            result = send()
            body = parse_qs(mocked.calls[0].request.body)["Body"][0]
        assert result["success"] is True
        assert "simulated" not in result
        code = re.search(r"\d{6}", body).group()
        assert verify_phone_code(TO, code) == {
            "success": True,
            "verified": True,
            "phone_number": TO,
        }

    def test_opted_out_numbers_are_refused(self, simulated):
        PhoneOptOut.objects.create(phone_number=TO, keyword="STOP")
        result = send()
        assert result["error_code"] == "opted_out"
        assert PhoneVerification.objects.get().invalidated_at is not None


# -- checking --------------------------------------------------------------------------------


class TestVerify:
    def test_right_code(self, simulated):
        send()
        assert verify_phone_code("+1 (415) 555-2671", sent_code()) == {
            "success": True,
            "verified": True,
            "phone_number": TO,
        }
        verification = PhoneVerification.objects.get()
        assert verification.verified_at is not None
        assert verification.attempts == 1
        assert verification.state() == "verified"

    def test_single_use(self, simulated):
        send()
        code = sent_code()
        assert verify_phone_code(TO, code)["success"]
        again = verify_phone_code(TO, code)
        assert again["success"] is False
        assert again["error_code"] == "no_pending_code"

    def test_wrong_code_counts_an_attempt(self, simulated):
        send()
        result = verify_phone_code(TO, wrong(sent_code()))
        assert result == {
            "success": False,
            "error": "The code is not correct: 4 attempts left.",
            "error_code": "invalid_code",
            "retryable": False,
            "attempts_left": 4,
        }
        assert PhoneVerification.objects.get().attempts == 1

    def test_attempts_left_count_down_to_the_last(self, simulated):
        send()
        code = sent_code()
        lefts = [verify_phone_code(TO, wrong(code))["attempts_left"] for _ in range(5)]
        assert lefts == [4, 3, 2, 1, 0]

    def test_the_last_wrong_code_says_to_request_a_new_one_when_one_can_be(self, simulated):
        send()
        code = sent_code()
        for _ in range(4):
            verify_phone_code(TO, wrong(code))
        last = verify_phone_code(TO, wrong(code))
        assert last["error"] == "Too many wrong codes; request a new one."
        assert (last["error_code"], last["attempts_left"]) == ("invalid_code", 0)
        assert "new_code_in" not in last

    def test_advice_says_when_a_new_code_can_be_requested_when_sends_are_blocked(self, simulated):
        for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):  # the per-number limit: 3
            send(ip=ip)
        code = sent_code()
        for _ in range(4):
            verify_phone_code(TO, wrong(code))
        last = verify_phone_code(TO, wrong(code))
        assert last["error"] == ("Too many wrong codes; a new code can be requested in 60 minutes.")
        assert 3590 <= last["new_code_in"] <= 3600
        after = verify_phone_code(TO, code)  # even the right code: it is dead
        assert after["error_code"] == "too_many_attempts"
        assert "request a new one" not in after["error"]
        assert after["new_code_in"] == pytest.approx(last["new_code_in"], abs=2)
        # Asking anyway is refused, with the same wait in words.
        refused = send(ip="203.0.113.9")
        assert refused["error"] == "Too many codes requested; try again in 60 minutes."

    def test_five_wrong_codes_kill_the_code(self, simulated):
        send()
        code = sent_code()
        for _ in range(5):
            assert verify_phone_code(TO, wrong(code))["error_code"] == "invalid_code"
        result = verify_phone_code(TO, code)
        assert result["success"] is False
        assert result["error_code"] == "too_many_attempts"
        verification = PhoneVerification.objects.get()
        assert verification.attempts == 5
        assert verification.verified_at is None
        assert verification.state() == "exhausted"

    def test_max_attempts_setting(self, simulated):
        simulated.PATCHBAY_PHONE_VERIFICATION_MAX_ATTEMPTS = 1
        send()
        code = sent_code()
        verify_phone_code(TO, wrong(code))
        assert verify_phone_code(TO, code)["error_code"] == "too_many_attempts"

    def test_malformed_code_is_not_an_attempt(self, simulated):
        send()
        result = verify_phone_code(TO, "12ab")
        assert result["error_code"] == "invalid_code"
        assert "malformed" in result["error"]
        assert PhoneVerification.objects.get().attempts == 0

    def test_expired_by_the_clock(self, simulated):
        send()
        code = sent_code()
        later = timezone.now() + timedelta(seconds=601)
        with mock.patch("django.utils.timezone.now", return_value=later):
            result = verify_phone_code(TO, code)
        assert result["error_code"] == "code_expired"
        assert PhoneVerification.objects.get().verified_at is None

    def test_expired_row(self, simulated):
        send()
        PhoneVerification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        assert verify_phone_code(TO, sent_code())["error_code"] == "code_expired"

    def test_a_new_code_invalidates_the_old(self, simulated):
        with mock.patch.object(codes.secrets, "randbelow", side_effect=[111111, 222222]):
            send()
            send()
        first = PhoneVerification.objects.order_by("created_at", "id").first()
        assert first.invalidated_at is not None
        assert verify_phone_code(TO, "111111")["error_code"] == "invalid_code"
        assert verify_phone_code(TO, "222222")["success"] is True

    def test_codes_are_per_number(self, simulated):
        with mock.patch.object(codes.secrets, "randbelow", side_effect=[111111, 222222]):
            send(OTHER)
            send(TO)
        assert PhoneVerification.objects.filter(invalidated_at__isnull=True).count() == 2
        assert verify_phone_code(TO, "111111")["error_code"] == "invalid_code"
        assert verify_phone_code(OTHER, "111111")["success"] is True
        assert verify_phone_code(TO, "222222")["success"] is True

    def test_nothing_sent(self, simulated):
        result = verify_phone_code(TO, "123456")
        assert result["error_code"] == "no_pending_code"

    def test_invalid_number(self, simulated):
        assert verify_phone_code("hello", "123456")["error_code"] == "invalid_number"


# -- send limits ---------------------------------------------------------------------------


class TestSendLimits:
    def test_per_number(self, simulated):
        for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            assert send(ip=ip)["success"]
        refused = send(ip="203.0.113.4")
        assert refused["success"] is False
        assert refused["error_code"] == "rate_limited"
        assert refused["retryable"] is True
        assert 3590 <= refused["retry_after"] <= 3600
        assert PhoneVerification.objects.count() == 3
        assert len(outbox.filter(operation="send_sms")) == 3
        assert send(OTHER, ip="203.0.113.4")["success"]

    def test_per_ip(self, simulated):
        simulated.PATCHBAY_PHONE_VERIFICATION_SENDS_PER_IP = 2
        assert send(TO)["success"]
        assert send(OTHER)["success"]
        refused = send("+14155552673")
        assert refused["error_code"] == "rate_limited"
        assert "retry_after" in refused
        assert send("+14155552673", ip="198.51.100.9")["success"]

    def test_refused_ip_does_not_use_the_numbers_quota(self, simulated):
        simulated.PATCHBAY_PHONE_VERIFICATION_SENDS_PER_IP = 1
        assert send(OTHER)["success"]
        for _ in range(5):
            assert send(TO)["error_code"] == "rate_limited"
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            assert send(TO, ip=ip)["success"]

    def test_settings(self, simulated):
        simulated.PATCHBAY_PHONE_VERIFICATION_SENDS_PER_NUMBER = 1
        simulated.PATCHBAY_PHONE_VERIFICATION_WINDOW = 60
        assert send()["success"]
        assert send()["retry_after"] <= 60

    def test_invalid_numbers_use_no_quota(self, simulated):
        simulated.PATCHBAY_PHONE_VERIFICATION_SENDS_PER_IP = 1
        assert send("hello")["error_code"] == "invalid_number"
        assert send()["success"]

    def test_window_starts_with_the_first_send(self):
        # Local memory expires keys by time.time(), so moving the clock ends the window.
        cache = LocMemCache("patchbay-ratelimit-test", {})
        clock = mock.patch.object(ratelimit.time, "time")

        def consume_at(now):
            with clock as time:
                time.return_value = now
                return ratelimit.consume("test", "a", limit=2, window=60, cache=cache)

        assert consume_at(1000.0) is None
        assert consume_at(1010.0) is None
        assert consume_at(1030.0) == 30
        assert consume_at(1059.5) == 1
        assert consume_at(1061.0) is None

    def test_parallel_sends_cannot_exceed_the_limit(self):
        results = run_concurrently(
            lambda: ratelimit.consume("test", "parallel", limit=3, window=60), 12
        )
        assert results.count(None) == 3

    @pytest.mark.redis
    def test_shared_between_separate_redis_clients(self, redis_url):
        """Two processes' cache clients (separate connection pools) share the counters."""
        from django_redis.cache import RedisCache

        def client(name):
            parts = urlsplit(redis_url)
            query = "&".join(filter(None, [parts.query, urlencode({"client_name": name})]))
            location = urlunsplit(parts._replace(query=query))
            return RedisCache(location, {"KEY_PREFIX": "patchbay-tests-ratelimit"})

        first, second = client("patchbay-a"), client("patchbay-b")
        pools = {id(cache.client.get_client().connection_pool) for cache in (first, second)}
        assert len(pools) == 2
        identity = secrets.token_hex(8)
        allowed = [
            ratelimit.consume("test", identity, limit=3, window=60, cache=cache)
            for cache in (first, second, first, second, first)
        ]
        assert allowed[:3] == [None, None, None]
        assert all(0 < wait <= 60 for wait in allowed[3:])
        parallel = run_concurrently(
            lambda: ratelimit.consume(
                "test",
                identity + "-parallel",
                limit=4,
                window=60,
                cache=secrets.choice([first, second]),
            ),
            16,
        )
        assert parallel.count(None) == 4


# -- Twilio Verify --------------------------------------------------------------------------


def verification_json(status="pending"):
    return {
        "sid": "VE" + "c" * 32,
        "service_sid": SERVICE_SID,
        "to": TO,
        "channel": "sms",
        "status": status,
    }


@pytest.mark.django_db
class TestTwilioVerify:
    @responses.activate
    def test_start_and_approve(self, twilio_verify):
        responses.post(f"{VERIFY_API}/Verifications", json=verification_json(), status=201)
        responses.post(
            f"{VERIFY_API}/VerificationCheck", json=verification_json("approved"), status=200
        )
        started = send("+1 415 555 2671")
        assert started == {
            "success": True,
            "sms_id": None,
            "verification_sid": "VE" + "c" * 32,
            "phone_number": TO,
            "expires_in": 600,
        }
        assert parse_qs(responses.calls[0].request.body) == {"To": [TO], "Channel": ["sms"]}
        verification = PhoneVerification.objects.get()
        assert verification.backend == "twilio_verify"
        assert verification.code_hash == ""
        assert verify_phone_code(TO, "4821")["verified"] is True
        assert parse_qs(responses.calls[1].request.body) == {"To": [TO], "Code": ["4821"]}
        assert PhoneVerification.objects.get().verified_at is not None
        # The code never reaches the logs.
        assert "4821" not in repr(list(IntegrationLog.objects.values()))

    @responses.activate
    def test_wrong_code(self, twilio_verify):
        responses.post(f"{VERIFY_API}/Verifications", json=verification_json(), status=201)
        responses.post(f"{VERIFY_API}/VerificationCheck", json=verification_json(), status=200)
        send()
        assert verify_phone_code(TO, "123456")["error_code"] == "invalid_code"
        assert PhoneVerification.objects.get().attempts == 1

    @responses.activate
    def test_expired_at_twilio(self, twilio_verify):
        responses.post(f"{VERIFY_API}/Verifications", json=verification_json(), status=201)
        responses.post(
            f"{VERIFY_API}/VerificationCheck",
            **twilio_error(20404, "The requested resource was not found", 404),
        )
        send()
        assert verify_phone_code(TO, "123456")["error_code"] == "code_expired"

    @responses.activate
    def test_too_many_checks_at_twilio(self, twilio_verify):
        responses.post(f"{VERIFY_API}/Verifications", json=verification_json(), status=201)
        responses.post(
            f"{VERIFY_API}/VerificationCheck",
            **twilio_error(60202, "Max check attempts reached", 429),
        )
        send()
        assert verify_phone_code(TO, "123456")["error_code"] == "too_many_attempts"

    @responses.activate
    def test_local_limits_still_apply(self, twilio_verify):
        responses.post(f"{VERIFY_API}/Verifications", json=verification_json(), status=201)
        responses.post(f"{VERIFY_API}/VerificationCheck", json=verification_json(), status=200)
        for _ in range(3):
            assert send()["success"]
        assert send()["error_code"] == "rate_limited"
        assert len(responses.calls) == 3
        for _ in range(5):
            verify_phone_code(TO, "123456")
        assert verify_phone_code(TO, "123456")["error_code"] == "too_many_attempts"
        assert len(responses.calls) == 3 + 5

    @responses.activate
    def test_service_failure(self, twilio_verify):
        responses.post(f"{VERIFY_API}/Verifications", **twilio_error(20500, "Internal", 500))
        result = send()
        assert result["error_code"] == "api_error"
        assert result["retryable"] is True
        assert PhoneVerification.objects.get().invalidated_at is not None

    def test_needs_a_service_sid(self, twilio_verify):
        twilio_verify.TWILIO_VERIFY_SERVICE_SID = ""
        result = send()
        assert result["error_code"] == "not_configured"
        assert "TWILIO_VERIFY_SERVICE_SID" in result["error"]

    def test_simulated(self, simulated):
        simulated.PATCHBAY_PHONE_VERIFICATION_BACKEND = "twilio_verify"
        assert send()["simulated"] is True
        code = outbox.filter(provider="twilio", operation="start_verification")[-1].data["code"]
        assert code == codes.simulated_verify_code(TO)
        assert verify_phone_code(TO, wrong(code))["error_code"] == "invalid_code"
        assert verify_phone_code(TO, code)["success"] is True
        assert code not in repr(list(IntegrationLog.objects.values()))


# -- endpoints ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestEndpoints:
    def test_urls(self):
        assert reverse("patchbay:phone-verification-start") == START_URL
        assert reverse("patchbay:phone-verification-check") == CHECK_URL

    def test_simulated_flow_end_to_end(self, simulated, client):
        response = client.post(START_URL, {"phone_number": "+1 415 555 2671"})
        assert response.status_code == 200
        assert response.json() == {"success": True, "phone_number": TO, "expires_in": 600}
        assert SMS.objects.get().status == "delivered"  # simulated callbacks arrived
        response = client.post(
            CHECK_URL,
            json.dumps({"phone_number": TO, "code": sent_code()}),
            content_type="application/json",
        )
        assert response.status_code == 200
        assert response.json() == {"success": True, "verified": True, "phone_number": TO}
        assert client.session["patchbay_verified_phone"] == TO

    def test_records_the_logged_in_user(self, simulated, client):
        user = get_user_model().objects.create_user("bob")
        client.force_login(user)
        assert client.post(START_URL, {"phone_number": TO}).status_code == 200
        assert PhoneVerification.objects.get().user == user

    def test_a_signed_in_caller_hears_attempts_left_and_when_to_ask_again(self, simulated, client):
        simulated.PATCHBAY_PHONE_VERIFICATION_SENDS_PER_NUMBER = 1
        simulated.PATCHBAY_PHONE_VERIFICATION_MAX_ATTEMPTS = 2
        client.force_login(get_user_model().objects.create_user("bob"))
        assert client.post(START_URL, {"phone_number": TO}).status_code == 200
        code = sent_code()
        first = client.post(CHECK_URL, {"phone_number": TO, "code": wrong(code)})
        assert (first.status_code, first.json()["attempts_left"]) == (400, 1)
        last = client.post(CHECK_URL, {"phone_number": TO, "code": wrong(code)}).json()
        assert last["attempts_left"] == 0
        assert last["error"].endswith("a new code can be requested in 60 minutes.")
        assert 3590 <= last["new_code_in"] <= 3600

    def test_an_anonymous_caller_still_hears_nothing_of_the_code(self, simulated, client):
        assert client.post(START_URL, {"phone_number": TO}).status_code == 200
        wrong_code = client.post(CHECK_URL, {"phone_number": TO, "code": wrong(sent_code())})
        assert wrong_code.json() == {
            "error": NEUTRAL_CHECK,
            "error_code": "invalid_code",
            "success": False,
        }

    @pytest.mark.parametrize("url", [START_URL, CHECK_URL])
    def test_post_only(self, client, url):
        response = client.get(url)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert response.json() == {"error": "Use POST."}

    @pytest.mark.parametrize(("url", "accepted"), [(START_URL, 200), (CHECK_URL, 400)])
    def test_csrf(self, simulated, url, accepted):
        client = Client(enforce_csrf_checks=True)
        assert client.post(url, {"phone_number": TO, "code": "123456"}).status_code == 403
        token = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret
        client.cookies["csrftoken"] = token
        response = client.post(url, {"phone_number": TO, "code": "123456"}, HTTP_X_CSRFTOKEN=token)
        assert response.status_code == accepted  # past CSRF: no code was sent to check

    @pytest.mark.parametrize(
        ("url", "body"),
        [
            (START_URL, {}),
            (START_URL, {"phone_number": "not a number"}),
            (CHECK_URL, {"phone_number": TO}),
            (CHECK_URL, {"phone_number": "", "code": "123456"}),
            (CHECK_URL, {"phone_number": TO, "code": "12"}),
            (CHECK_URL, {"phone_number": TO, "code": "1" * 10_000}),
            (CHECK_URL, {"phone_number": TO + "\x00", "code": "123456"}),
            (START_URL, {"phone_number": "+1" * 5_000}),
        ],
    )
    def test_bad_input(self, simulated, client, url, body):
        if url == CHECK_URL:
            send()
        response = client.post(url, body)
        assert response.status_code == 400
        assert response.json()["error"]
        assert response.json()["success"] is False

    @pytest.mark.parametrize(
        "raw", [b"{", b"[1, 2]", b'{"phone_number": 14155552671}', b"\xff\xfe", b"null"]
    )
    def test_malformed_json(self, client, raw):
        response = client.post(START_URL, raw, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error_code"] == "invalid_request"

    def test_wrong_and_expired_codes(self, simulated, client):
        # Signed in, the caller is told why (anonymous callers: test_verification_attacks).
        client.force_login(get_user_model().objects.create_user("bob"))
        client.post(START_URL, {"phone_number": TO})
        code = sent_code()
        response = client.post(CHECK_URL, {"phone_number": TO, "code": wrong(code)})
        assert response.status_code == 400
        assert response.json()["error_code"] == "invalid_code"
        PhoneVerification.objects.update(expires_at=timezone.now())
        response = client.post(CHECK_URL, {"phone_number": TO, "code": code})
        assert response.status_code == 400
        assert response.json()["error_code"] == "code_expired"
        assert "patchbay_verified_phone" not in client.session

    def test_rate_limited(self, simulated, client):
        for _ in range(3):
            assert client.post(START_URL, {"phone_number": TO}).status_code == 200
        response = client.post(START_URL, {"phone_number": TO})
        assert response.status_code == 429
        body = response.json()
        assert body["error_code"] == "rate_limited"
        assert 0 < body["retry_after"] <= 3600
        assert response["Retry-After"] == str(body["retry_after"])

    def test_service_unavailable(self, live_twilio, client):
        with responses.RequestsMock() as mocked:
            mocked.post(f"{API}/Messages.json", **twilio_error(20500, "Internal", 500))
            response = client.post(START_URL, {"phone_number": TO})
        assert response.status_code == 503
        assert response.json()["error_code"] == "api_error"

    def test_not_configured(self, settings, client):
        settings.PATCHBAY_SIMULATE = False
        client.force_login(get_user_model().objects.create_user("bob"))
        response = client.post(START_URL, {"phone_number": TO})
        assert response.status_code == 502
        assert response.json()["error_code"] == "not_configured"


# -- admin ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_never_shows_the_hash(simulated, admin_client):
    send()
    verification = PhoneVerification.objects.get()
    changelist = admin_client.get(reverse("admin:patchbay_phoneverification_changelist"))
    page = admin_client.get(
        reverse("admin:patchbay_phoneverification_change", args=[verification.pk])
    )
    for response in (changelist, page):
        assert response.status_code == 200
        assert verification.code_hash not in response.content.decode()
        assert sent_code() not in response.content.decode()
    assert TO in changelist.content.decode()
    assert admin_client.get(reverse("admin:patchbay_phoneverification_add")).status_code == 403


# -- concurrency ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_exceed_the_attempt_limit(postgres_only, settings):
    settings.PATCHBAY_SIMULATE = True
    send()
    code = sent_code()
    guesses = iter([f"{(int(code) + n) % 10**6:06d}" for n in range(1, 21)])
    results = run_concurrently(lambda: verify_phone_code(TO, next(guesses)), 20)
    error_codes = sorted(result["error_code"] for result in results)
    assert error_codes == ["invalid_code"] * 5 + ["too_many_attempts"] * 15
    assert PhoneVerification.objects.get().attempts == 5
    assert verify_phone_code(TO, code)["error_code"] == "too_many_attempts"
