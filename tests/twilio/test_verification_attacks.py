"""Issue 14, findings 4 and 5: the phone verification endpoints tell an anonymous caller
nothing about a number's codes nor the provider's errors, and a code started in one
browser session cannot be checked from another."""

from __future__ import annotations

import logging
import re

import pytest
import responses
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from patchbay.core.simulation import outbox
from patchbay.models import PhoneVerification
from tests.twilio.helpers import API, TO, live_twilio, twilio_error

__all__ = ["live_twilio"]

pytestmark = pytest.mark.django_db

START_URL = "/integrations/phone/verify/start/"
CHECK_URL = "/integrations/phone/verify/check/"


@pytest.fixture
def simulated(settings):
    settings.PATCHBAY_SIMULATE = True
    return settings


def sent_code():
    body = outbox.filter(provider="twilio", operation="send_sms")[-1].data["body"]
    return re.search(r"\d{6}", body).group()


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


def answer(response):
    return response.status_code, response.json()


def check(client, code, phone=TO):
    return client.post(CHECK_URL, {"phone_number": phone, "code": code})


class TestAnonymousCallersGetOneAnswer:
    def test_no_code_a_wrong_code_an_expired_code_and_a_dead_code_look_alike(self, simulated):
        anonymous = Client()
        answers = {"none": answer(check(anonymous, "123456"))}

        assert anonymous.post(START_URL, {"phone_number": TO}).status_code == 200
        code = sent_code()
        answers["wrong"] = answer(check(anonymous, wrong(code)))
        PhoneVerification.objects.update(expires_at=timezone.now())
        answers["expired"] = answer(check(anonymous, code))

        anonymous.post(START_URL, {"phone_number": TO})
        code = sent_code()
        for _ in range(5):
            check(anonymous, wrong(code))
        answers["exhausted"] = answer(check(anonymous, code))

        anonymous.post(START_URL, {"phone_number": TO})
        code = sent_code()
        assert check(anonymous, code).status_code == 200
        answers["used"] = answer(check(anonymous, code))

        assert len(set(map(repr, answers.values()))) == 1, answers
        status, body = answers["none"]
        assert status == 400
        assert body["error_code"] == "invalid_code"

    def test_a_signed_in_caller_still_gets_the_detail(self, simulated):
        client = Client()
        client.force_login(get_user_model().objects.create_user("bob"))
        assert check(client, "123456").json()["error_code"] == "no_pending_code"
        client.post(START_URL, {"phone_number": TO})
        code = sent_code()
        PhoneVerification.objects.update(expires_at=timezone.now())
        assert check(client, code).json()["error_code"] == "code_expired"

    def test_provider_errors_are_not_shown(self, live_twilio, caplog):
        caplog.set_level(logging.INFO, logger="patchbay")
        with responses.RequestsMock() as mocked:
            mocked.post(
                f"{API}/Messages.json", **twilio_error(20003, "Authenticate: bad credentials", 401)
            )
            response = Client().post(START_URL, {"phone_number": TO})

        body = response.json()
        assert response.status_code == 503
        assert body["error_code"] == "api_error"
        assert "20003" not in response.content.decode()
        assert "Authenticate" not in response.content.decode()
        assert "Twilio" not in body["error"]
        assert "20003" in caplog.text  # the detail is logged

    def test_not_configured_is_not_shown(self, settings):
        settings.PATCHBAY_SIMULATE = False
        response = Client().post(START_URL, {"phone_number": TO})
        assert response.status_code == 503
        assert response.json()["error_code"] == "api_error"
        assert "TWILIO" not in response.content.decode()

    def test_malformed_input_is_still_explained(self, simulated):
        response = Client().post(START_URL, {"phone_number": "not a number"})
        assert response.status_code == 400
        assert response.json()["error_code"] == "invalid_number"


class TestCodesAreBoundToTheSession:
    def test_another_session_cannot_check_the_code(self, simulated):
        owner, stranger = Client(), Client()
        assert owner.post(START_URL, {"phone_number": TO}).status_code == 200
        code = sent_code()

        refused = check(stranger, code)

        assert answer(refused) == answer(check(Client(), "123456"))  # neutral
        assert "patchbay_verified_phone" not in stranger.session
        assert PhoneVerification.objects.get().attempts == 0  # not even a guess
        assert check(owner, code).status_code == 200
        assert owner.session["patchbay_verified_phone"] == TO

    def test_a_signed_in_stranger_gets_no_pending_code(self, simulated):
        Client().post(START_URL, {"phone_number": TO})
        stranger = Client()
        stranger.force_login(get_user_model().objects.create_user("eve"))

        assert check(stranger, sent_code()).json()["error_code"] == "no_pending_code"

    def test_the_latest_code_of_the_session_counts(self, simulated):
        owner = Client()
        owner.post(START_URL, {"phone_number": TO})
        Client().post(START_URL, {"phone_number": TO})  # someone else asks: a newer code
        code = sent_code()

        assert check(owner, code).status_code == 400  # the newer code is not this session's

    def test_the_setting_turns_binding_off(self, simulated):
        simulated.PATCHBAY_PHONE_VERIFICATION_BIND_SESSION = False
        Client().post(START_URL, {"phone_number": TO})

        assert check(Client(), sent_code()).status_code == 200
