from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import requests
import responses

from patchbay.exceptions import ServiceError
from patchbay.models import IntegrationLog
from patchbay.twilio.client import TwilioClient
from patchbay.twilio.numbers import normalize
from tests.twilio.helpers import (
    ACCOUNT_SID,
    API,
    AUTH_TOKEN,
    FROM,
    TO,
    live_twilio,
    message_json,
    twilio_error,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_twilio")]
__all__ = ["live_twilio"]


def sent(call):
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


class TestNumbers:
    @pytest.mark.parametrize("raw", ["+1 415 555 2671", "+1 (415) 555-2671", "+14155552671"])
    def test_normalized_to_e164(self, raw):
        assert normalize(raw) == TO

    def test_national_numbers_need_a_region(self, settings):
        with pytest.raises(ServiceError):
            normalize("020 7946 0018")
        settings.TWILIO_DEFAULT_REGION = "GB"
        assert normalize("020 7946 0018") == "+442079460018"

    @pytest.mark.parametrize("raw", ["", "hello", "+1 555", "+999999999999999", "12"])
    def test_invalid(self, raw):
        with pytest.raises(ServiceError) as info:
            normalize(raw)
        assert info.value.error_code == "invalid_number"

    @pytest.mark.parametrize("raw", ["020 7946 0018", "12"])
    def test_a_number_without_country_code_says_how_to_fix_it(self, raw, settings):
        settings.TWILIO_DEFAULT_REGION = None
        with pytest.raises(ServiceError) as info:
            normalize(raw)
        message = info.value.message
        assert message.startswith(f'"{raw}" is not a valid phone number')
        assert "country code (e.g. +14155552671)" in message
        assert "TWILIO_DEFAULT_REGION" in message

    def test_in_a_default_region_the_setting_is_not_suggested(self, settings):
        settings.TWILIO_DEFAULT_REGION = "GB"
        with pytest.raises(ServiceError) as info:
            normalize("12")
        assert "not a valid phone number in GB" in info.value.message
        assert "country code (e.g. +14155552671)" in info.value.message
        assert "TWILIO_DEFAULT_REGION" not in info.value.message

    def test_a_number_with_a_country_code_asks_to_check_it(self):
        with pytest.raises(ServiceError) as info:
            normalize("+1 555")
        assert info.value.message.startswith('"+1 555" is not a valid phone number')
        assert "country code and the digits after it" in info.value.message
        assert "TWILIO_DEFAULT_REGION" not in info.value.message

    @pytest.mark.parametrize("raw", ["", "   ", None])
    def test_an_empty_number_is_called_empty(self, raw):
        with pytest.raises(ServiceError) as info:
            normalize(raw)
        assert info.value.error_code == "invalid_number"
        assert info.value.message.startswith("The phone number is empty")
        assert "not a valid" not in info.value.message

    def test_sending_to_an_empty_number_says_so(self):
        result = TwilioClient().send_sms("", "hi")
        assert (result["error_code"], result["error"].split(":")[0]) == (
            "invalid_number",
            "The phone number is empty",
        )


@responses.activate
def test_send_sms():
    responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    result = TwilioClient().send_sms("+1 415 555 2671", "Hello there")
    assert result == {
        "success": True,
        "sid": "SM" + "1" * 32,
        "status": "queued",
        "to": TO,
        "from": FROM,
        "channel": "sms",
    }
    assert sent(responses.calls[0]) == {"To": TO, "From": FROM, "Body": "Hello there"}
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    log = IntegrationLog.objects.get()
    assert "Hello there" not in json.dumps(log.request_summary)
    assert AUTH_TOKEN not in json.dumps(log.request_summary)


@responses.activate
def test_status_callback_is_filled_from_the_public_url(settings):
    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    TwilioClient().send_sms(TO, "hi")
    assert sent(responses.calls[0])["StatusCallback"] == (
        "https://app.example.com/integrations/webhooks/twilio/status/"
    )


@responses.activate
def test_explicit_status_callback_wins(settings):
    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    TwilioClient().send_sms(TO, "hi", status_callback="https://other.example.com/cb")
    assert sent(responses.calls[0])["StatusCallback"] == "https://other.example.com/cb"


@responses.activate
def test_whatsapp_by_channel_or_address(settings):
    settings.TWILIO_WHATSAPP_NUMBER = "+14155550199"
    responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    client = TwilioClient()
    assert client.send_sms(TO, "hi", channel="whatsapp")["channel"] == "whatsapp"
    assert client.send_sms(f"whatsapp:{TO}", "hi")["to"] == f"whatsapp:{TO}"
    for call in responses.calls:
        assert sent(call)["To"] == f"whatsapp:{TO}"
        assert sent(call)["From"] == "whatsapp:+14155550199"


@responses.activate
def test_messaging_service_instead_of_a_number(settings):
    settings.TWILIO_PHONE_NUMBER = ""
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "b" * 32
    responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    TwilioClient().send_sms(TO, "hi")
    body = sent(responses.calls[0])
    assert body["MessagingServiceSid"] == "MG" + "b" * 32
    assert "From" not in body


@pytest.mark.parametrize(
    ("to", "body", "code"),
    [
        ("not a number", "hi", "invalid_number"),
        (TO, "", "invalid_body"),
        (TO, "x" * 1601, "invalid_body"),
        (TO, "hi", None),
    ],
)
@responses.activate
def test_refused_before_any_call(to, body, code):
    responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    result = TwilioClient().send_sms(to, body)
    if code is None:
        assert result["success"] is True
        return
    assert (result["success"], result["error_code"]) == (False, code)
    assert len(responses.calls) == 0
    log = IntegrationLog.objects.get()
    assert (log.success, log.error_code) == (False, code)


def test_no_sender_is_a_clear_error(settings):
    settings.TWILIO_PHONE_NUMBER = ""
    result = TwilioClient().send_sms(TO, "hi")
    assert result["error_code"] == "not_configured"
    assert "TWILIO_PHONE_NUMBER" in result["error"]


@pytest.mark.parametrize(
    ("reply", "code", "retryable"),
    [
        (twilio_error(21610, "Attempt to send to unsubscribed recipient"), "opted_out", False),
        (twilio_error(30006, "Landline or unreachable carrier"), "landline", False),
        (twilio_error(21211, "Invalid 'To' Phone Number"), "invalid_number", False),
        (twilio_error(20003, "Authenticate", 401), "authentication_error", False),
        (twilio_error(20429, "Too Many Requests", 429), "rate_limited", True),
        (twilio_error(20500, "Internal Server Error", 500), "api_error", True),
        (twilio_error(21606, "The From phone number is not a valid number"), "twilio_21606", False),
    ],
)
@responses.activate
def test_error_mapping(reply, code, retryable):
    responses.post(f"{API}/Messages.json", **reply)
    result = TwilioClient().send_sms(TO, "hi")
    assert (result["success"], result["error_code"], result["retryable"]) == (
        False,
        code,
        retryable,
    )
    assert AUTH_TOKEN not in result["error"]


@responses.activate
def test_a_lost_answer_is_never_retried_blindly():
    responses.post(f"{API}/Messages.json", body=requests.ReadTimeout("read timed out"))
    result = TwilioClient().send_sms(TO, "hi")
    assert (result["error_code"], result["retryable"]) == ("outcome_unknown", False)
    assert "may have been sent" in result["error"]
    assert len(responses.calls) == 1


@responses.activate
def test_refused_connection_is_retryable():
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    reason = MaxRetryError(None, "/", NewConnectionError(None, "refused"))
    responses.post(f"{API}/Messages.json", body=requests.ConnectionError(reason))
    result = TwilioClient().send_sms(TO, "hi")
    assert (result["error_code"], result["retryable"]) == ("connection_error", True)


@responses.activate
def test_get_message_status():
    sid = "SM" + "2" * 32
    responses.get(
        f"{API}/Messages/{sid}.json",
        json=message_json(sid, "undelivered", error_code=30003, error_message="Unreachable"),
    )
    result = TwilioClient().get_message_status(sid)
    assert result["status"] == "undelivered"
    assert result["data"]["error_code"] == 30003
    assert result["data"]["error_message"] == "Unreachable"


@responses.activate
def test_verify_phone_number_uses_lookup_v2():
    responses.get(
        f"https://lookups.twilio.com/v2/PhoneNumbers/{TO}",
        json={
            "phone_number": TO,
            "valid": True,
            "country_code": "US",
            "line_type_intelligence": {"carrier_name": "Acme Mobile", "type": "mobile"},
        },
    )
    result = TwilioClient().verify_phone_number("+1 415-555-2671")
    assert result["valid"] is True
    assert result["data"]["carrier"] == {"name": "Acme Mobile", "type": "mobile"}
    assert result["data"]["line_type"] == "mobile"
    assert "line_type_intelligence" in responses.calls[0].request.url


def test_verify_phone_number_invalid_needs_no_call():
    assert TwilioClient().verify_phone_number("nope") == {
        "success": True,
        "valid": False,
        "data": {"phone_number": "nope"},
    }


@responses.activate
def test_health_probe_fetches_the_account():
    responses.get(f"{API}.json", json={"sid": ACCOUNT_SID, "status": "active"})
    assert TwilioClient().check_health() == {"success": True, "healthy": True}


class TestSimulated:
    @pytest.fixture(autouse=True)
    def _simulate(self, live_twilio):
        live_twilio.PATCHBAY_SIMULATE = True

    def test_send_needs_no_credentials(self, settings, patchbay_outbox):
        settings.TWILIO_AUTH_TOKEN = ""
        result = TwilioClient().send_sms(TO, "secret body")
        assert result["simulated"] is True
        assert result["sid"].startswith("SM")
        assert len(result["sid"]) == 34
        [call] = patchbay_outbox.filter(provider="twilio", operation="send_sms")
        assert call.data["body"] == "secret body"
        assert "secret body" not in json.dumps(IntegrationLog.objects.get().request_summary)

    def test_lookup_answers_from_phonenumbers(self):
        result = TwilioClient().verify_phone_number(TO)
        assert (result["valid"], result["data"]["country_code"]) == (True, "US")
        assert TwilioClient().verify_phone_number("12")["valid"] is False

    def test_invalid_numbers_are_refused_in_simulation_too(self):
        assert TwilioClient().send_sms("12", "hi")["error_code"] == "invalid_number"


class TestNumbersWithoutPhonenumbers:
    """Simulating without the twilio extra: strict E.164 only (documented fallback)."""

    @pytest.fixture(autouse=True)
    def numbers_without_phonenumbers(self, monkeypatch):
        from patchbay.twilio import numbers

        monkeypatch.setattr(numbers, "_phonenumbers_installed", lambda: False)
        return numbers

    @pytest.mark.parametrize("number", ["+14155552671", "+442071838750", "+4930123456"])
    def test_e164_is_accepted_as_given(self, numbers_without_phonenumbers, number):
        assert numbers_without_phonenumbers.normalize(number, simulating=True) == number

    @pytest.mark.parametrize(
        "number", ["4155552671", "+1 415 555 2671", "+0123456789", "+1415", "+1" + "2" * 15]
    )
    def test_anything_else_is_an_invalid_number(self, numbers_without_phonenumbers, number):
        with pytest.raises(ServiceError) as caught:
            numbers_without_phonenumbers.normalize(number, simulating=True)
        assert caught.value.error_code == "invalid_number"
        assert "E.164" in caught.value.message

    def test_an_empty_number_says_so(self, numbers_without_phonenumbers):
        with pytest.raises(ServiceError) as caught:
            numbers_without_phonenumbers.normalize("", simulating=True)
        assert caught.value.error_code == "invalid_number"
        assert "empty" in caught.value.message

    def test_live_still_parses_with_phonenumbers(self, numbers_without_phonenumbers):
        assert numbers_without_phonenumbers.normalize("+1 415 555 2671") == "+14155552671"

    def test_simulated_send_and_lookup(self, monkeypatch):
        from patchbay.twilio import client as twilio_client

        monkeypatch.setattr(twilio_client, "sdk_available", lambda module: False)
        client = TwilioClient(debug_mode=True)
        assert client.send_sms("+14155552671", "hi")["to"] == "+14155552671"
        lookup = client.verify_phone_number("+14155552671")
        assert (lookup["valid"], lookup["data"]["line_type"]) == (True, "unknown")
        assert client.send_sms("415 555 2671", "hi")["error_code"] == "invalid_number"
