"""TWILIO_ALLOWED_COUNTRIES: no message or code leaves for a region the project does not serve.

Against SMS pumping: bots start verifications to premium numbers abroad and
the sender pays for every text. Off by default (every region).
"""

from __future__ import annotations

import pytest
import responses
from django.core.checks import run_checks
from django.test import RequestFactory

from patchbay.models import SMS, IntegrationLog
from patchbay.twilio.client import TwilioClient
from patchbay.twilio.shortcuts import send_sms
from patchbay.twilio.verification import initiate_phone_verification
from tests.twilio.helpers import TO, live_twilio

__all__ = ["live_twilio"]

pytestmark = pytest.mark.django_db

UK = "+447400123456"


@pytest.fixture
def simulated(settings):
    settings.PATCHBAY_SIMULATE = True
    settings.TWILIO_ALLOWED_COUNTRIES = ["US", "CA"]
    return settings


def test_unset_every_region_is_allowed(settings):
    settings.PATCHBAY_SIMULATE = True

    assert TwilioClient().send_sms(UK, "hi")["success"] is True


@pytest.mark.usefixtures("simulated")
class TestSimulated:
    def test_a_message_to_another_region_is_refused(self):
        result = TwilioClient().send_sms(UK, "hi")

        assert result["success"] is False
        assert result["error_code"] == "country_not_allowed"
        assert result["retryable"] is False
        assert "GB" in result["error"]
        assert IntegrationLog.objects.get().error_code == "country_not_allowed"

    def test_whatsapp_too(self):
        assert TwilioClient().send_sms(f"whatsapp:{UK}", "hi")["error_code"] == (
            "country_not_allowed"
        )

    def test_an_allowed_region_is_sent(self):
        assert TwilioClient().send_sms(TO, "hi")["success"] is True
        assert TwilioClient().send_sms("+16135550123", "hi")["success"] is True

    def test_the_shortcut_records_the_refusal(self):
        result = send_sms(UK, "hi")

        assert result["error_code"] == "country_not_allowed"
        assert SMS.objects.get().status == "failed"

    def test_no_verification_code_is_sent(self):
        result = initiate_phone_verification(UK, RequestFactory().post("/"))

        assert result["success"] is False
        assert result["error_code"] == "country_not_allowed"

    def test_nor_through_twilio_verify(self, settings):
        settings.PATCHBAY_PHONE_VERIFICATION_BACKEND = "twilio_verify"

        assert TwilioClient().start_verification(UK)["error_code"] == "country_not_allowed"

    def test_an_empty_list_allows_nothing(self, settings):
        settings.TWILIO_ALLOWED_COUNTRIES = []

        assert TwilioClient().send_sms(TO, "hi")["error_code"] == "country_not_allowed"


@responses.activate
def test_live_nothing_reaches_twilio(live_twilio):
    live_twilio.TWILIO_ALLOWED_COUNTRIES = ["US"]

    result = TwilioClient().send_sms(UK, "hi")

    assert result["error_code"] == "country_not_allowed"
    assert len(responses.calls) == 0


@pytest.mark.parametrize("value", ["US", ["us"], ["UK", 44], ["+44"]])
def test_a_value_that_is_no_list_of_region_codes_is_an_error(settings, value):
    settings.TWILIO_ALLOWED_COUNTRIES = value

    assert [message.id for message in run_checks() if message.id == "patchbay.E038"] == [
        "patchbay.E038"
    ]
