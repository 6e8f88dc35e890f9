"""patchbay.testing's Twilio helpers sign as Twilio does, for the URL the endpoint checks."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from django.test import Client

from patchbay.models import SMS, PhoneOptOut, WebhookEvent
from patchbay.testing import post_twilio_inbound, post_twilio_status, sign_twilio_request

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "helpers-auth-token-0123456789abcdef"
SHARED_KEY = "helpers-shared-key-fedcba9876543210"
SID = "SM" + "5" * 32
STATUS_PATH = "/integrations/webhooks/twilio/status/"


@pytest.fixture
def twilio_token(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    return settings


@pytest.fixture
def sms(db):
    return SMS.objects.create(to_number="+14155552671", status="queued", external_id=SID)


def twilio_signature(url, params, token, digest=hashlib.sha1):
    """Twilio's documented algorithm, written out independently of the SDK."""
    signed = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), digest).digest()).decode()


def test_signature_follows_twilios_algorithm(twilio_token):
    params = {"To": "+14155552671", "Body": "hi", "MessageSid": SID}
    url = "https://example.com/integrations/webhooks/twilio/inbound/?x=1"

    assert sign_twilio_request(url, params) == twilio_signature(url, params, AUTH_TOKEN)
    assert sign_twilio_request(url, params, "other") == twilio_signature(url, params, "other")
    assert sign_twilio_request(url, params, algorithm="HMAC_SHA256") == twilio_signature(
        url, params, AUTH_TOKEN, hashlib.sha256
    )


def test_status_callback_is_accepted_and_applied(client, twilio_token, sms):
    response = post_twilio_status(client, SID, "delivered")

    assert response.status_code == 200
    sms.refresh_from_db()
    assert sms.status == "delivered"
    assert WebhookEvent.objects.get().event_id == f"{SID}:delivered"


def test_extra_parameters_are_signed_and_sent(client, twilio_token, sms):
    response = post_twilio_status(
        client, SID, "undelivered", extra={"ErrorCode": "30003", "ErrorMessage": "Unreachable"}
    )

    assert response.status_code == 200
    sms.refresh_from_db()
    assert (sms.status, sms.error_code, sms.error_message) == (
        "undelivered",
        "30003",
        "Unreachable",
    )


def test_another_token_is_refused(client, twilio_token, sms):
    response = post_twilio_status(client, SID, "delivered", token="not-the-auth-token")

    assert response.status_code == 400
    sms.refresh_from_db()
    assert sms.status == "queued"


def test_headers_override_the_signature(client, twilio_token, sms):
    response = post_twilio_status(
        client, SID, "delivered", headers={"X-Twilio-Signature": "forged"}
    )

    assert response.status_code == 400


def test_public_url_is_what_gets_signed(client, twilio_token, sms):
    twilio_token.PATCHBAY_PUBLIC_URL = "https://shop.example.com/"

    assert post_twilio_status(client, SID, "sent").status_code == 200
    # Signing Django's own URL is what a misconfigured proxy setup looks like: refused.
    wrong = "http://testserver" + STATUS_PATH
    assert post_twilio_status(client, SID, "delivered", url=wrong).status_code == 400
    sms.refresh_from_db()
    assert sms.status == "sent"


def test_a_full_url_is_signed_as_given(client, twilio_token, sms):
    assert (
        post_twilio_status(client, SID, "sent", url="http://testserver" + STATUS_PATH).status_code
        == 200
    )
    other_host = "https://elsewhere.example.com" + STATUS_PATH
    assert post_twilio_status(client, SID, "delivered", url=other_host).status_code == 400


def test_the_test_clients_host_is_signed(twilio_token, sms):
    client = Client(HTTP_HOST="localhost")

    assert post_twilio_status(client, SID, "delivered").status_code == 200


def test_hmac_sha256_with_the_shared_key(client, twilio_token, sms):
    twilio_token.TWILIO_WEBHOOK_SIGNING_KEY = SHARED_KEY

    with_auth_token = post_twilio_status(
        client, SID, "sent", token=AUTH_TOKEN, algorithm="HMAC_SHA256"
    )
    with_shared_key = post_twilio_status(client, SID, "delivered", algorithm="HMAC_SHA256")

    assert with_auth_token.status_code == 400
    assert with_shared_key.status_code == 200
    sent = with_shared_key.wsgi_request.headers
    assert sent["X-Twilio-Webhooks-Signature-Settings"].endswith(",algorithm=HMAC_SHA256")
    assert sent["X-Twilio-Webhooks-Signature-Settings"].startswith("key=")


def test_inbound_message_is_stored_and_answered_with_twiml(client, twilio_token):
    twilio_token.TWILIO_PHONE_NUMBER = "+14155550100"

    response = post_twilio_inbound(client, "+14155552671", "Hello!")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    inbound = SMS.objects.get()
    assert (inbound.direction, inbound.channel, inbound.status) == ("inbound", "sms", "received")
    assert (inbound.from_number, inbound.to_number, inbound.body) == (
        "+14155552671",
        "+14155550100",
        "Hello!",
    )
    assert inbound.external_id.startswith("SM")


def test_inbound_redelivery_with_the_same_sid_is_stored_once(client, twilio_token):
    for _ in range(2):
        response = post_twilio_inbound(client, "+14155552671", "Hi", message_sid=SID)
        assert response.status_code == 200

    assert SMS.objects.count() == 1


def test_inbound_stop_opts_the_number_out(client, twilio_token):
    post_twilio_inbound(client, "+14155552671", "stop")

    assert PhoneOptOut.objects.filter(phone_number="+14155552671").exists()


def test_inbound_whatsapp(client, twilio_token):
    response = post_twilio_inbound(client, "whatsapp:+14155552671", "Hi", to="+14155550100")

    assert response.status_code == 200
    inbound = SMS.objects.get()
    assert (inbound.channel, inbound.from_number, inbound.to_number) == (
        "whatsapp",
        "+14155552671",
        "+14155550100",
    )
    assert WebhookEvent.objects.get().payload["To"] == "whatsapp:+14155550100"


def test_simulating_without_credentials_signs_with_the_simulation_token(client, settings, sms):
    settings.PATCHBAY_SIMULATE = True

    assert post_twilio_status(client, SID, "delivered").status_code == 200
    assert post_twilio_inbound(client, "+14155552671", "Hi").status_code == 200


def test_live_without_credentials_is_refused(client, settings, sms):
    settings.PATCHBAY_SIMULATE = False

    assert post_twilio_status(client, SID, "delivered").status_code == 400
