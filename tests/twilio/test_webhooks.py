from __future__ import annotations

import pytest
from django.test import Client

from patchbay.models import SMS, PhoneOptOut, WebhookEvent
from patchbay.signals import sms_received
from patchbay.twilio import signature as twilio_signature
from patchbay.twilio.simulation import sign
from tests.conftest import run_concurrently
from tests.twilio.helpers import (
    AUTH_TOKEN,
    FROM,
    INBOUND_URL,
    SHARED_KEY,
    STATUS_URL,
    TO,
    live_twilio,
    post_signed,
)

pytestmark = pytest.mark.usefixtures("live_twilio")
__all__ = ["live_twilio"]
SID = "SM" + "3" * 32


def status(client, value, sid=SID, **kwargs):
    return post_signed(
        client, STATUS_URL, {"MessageSid": sid, "MessageStatus": value, "To": TO}, **kwargs
    )


@pytest.fixture
def sms(db):
    return SMS.objects.create(
        to_number=TO, from_number=FROM, body="hi", status="queued", external_id=SID
    )


@pytest.mark.parametrize("algorithm", ["HMAC_SHA1", "HMAC_SHA256"])
def test_patchbay_signs_exactly_as_the_sdk(algorithm):
    from django.http import QueryDict
    from twilio.request_validator import RequestValidator

    params = QueryDict("b=2&a=1&a=0&Body=h%C3%A9+%26+co")
    assert twilio_signature.compute_signature(AUTH_TOKEN, STATUS_URL, params, algorithm) == (
        RequestValidator(AUTH_TOKEN).compute_signature(STATUS_URL, params, algorithm)
    )
    assert sign(STATUS_URL, {"a": "1"}, AUTH_TOKEN, algorithm) == (
        RequestValidator(AUTH_TOKEN).compute_signature(STATUS_URL, {"a": "1"}, algorithm)
    )


def test_patchbay_validates_with_or_without_the_default_port():
    params = {"MessageSid": SID}
    signed = twilio_signature.compute_signature(AUTH_TOKEN, "https://x.example/hook/", params)
    assert twilio_signature.validate(AUTH_TOKEN, "https://x.example:443/hook/", params, signed)
    assert twilio_signature.validate(AUTH_TOKEN, "https://x.example/hook/", params, signed)
    assert not twilio_signature.validate(AUTH_TOKEN, "https://x.example/other/", params, signed)
    assert not twilio_signature.validate(
        AUTH_TOKEN, "https://x.example/hook/", params, signed, "HMAC_MD5"
    )


class TestVerification:
    """With the SDK's ``RequestValidator``, and with patchbay's own (no SDK installed)."""

    @pytest.fixture(autouse=True, params=["sdk", "patchbay"])
    def verifier(self, request, monkeypatch):
        if request.param == "patchbay":
            import twilio.request_validator

            monkeypatch.setattr(twilio_signature, "sdk_available", lambda module: False)
            monkeypatch.setattr(twilio.request_validator, "RequestValidator", None)
        return request.param

    def test_valid_sha1_signature(self, client, sms):
        assert status(client, "sent").status_code == 200
        sms.refresh_from_db()
        assert sms.status == "sent"
        assert sms.sent_at is not None

    @pytest.mark.parametrize(
        "kwargs",
        [{"token": "wrong-token-000000"}, {"signature": "bm90IGEgc2lnbmF0dXJl"}],
    )
    def test_forged(self, client, sms, kwargs):
        response = status(client, "delivered", **kwargs)
        assert response.status_code == 400
        assert response.json()["error"]
        sms.refresh_from_db()
        assert sms.status == "queued"
        assert not WebhookEvent.objects.exists()

    def test_missing_signature(self, client, sms):
        response = client.post(
            "/integrations/webhooks/twilio/status/", {"MessageSid": SID, "MessageStatus": "sent"}
        )
        assert response.status_code == 400
        assert "X-Twilio-Signature" in response.json()["error"]

    def test_signed_for_another_url(self, client, sms):
        params = {"MessageSid": SID, "MessageStatus": "sent"}
        signature = sign("https://elsewhere.example.com/hook/", params, AUTH_TOKEN)
        assert post_signed(client, STATUS_URL, params, signature=signature).status_code == 400

    def test_public_url_is_what_is_verified(self, client, sms, settings):
        settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
        params = {"MessageSid": SID, "MessageStatus": "sent"}
        public = "https://app.example.com/integrations/webhooks/twilio/status/"
        assert (
            post_signed(
                client, STATUS_URL, params, signature=sign(public, params, AUTH_TOKEN)
            ).status_code
            == 200
        )
        # The URL Django saw behind the proxy is not what Twilio signed.
        assert status(client, "delivered").status_code == 400

    def test_hmac_sha256_with_the_shared_key(self, client, sms, settings):
        settings.TWILIO_WEBHOOK_SIGNING_KEY = SHARED_KEY
        params = {"MessageSid": SID, "MessageStatus": "sent"}
        signature = sign(STATUS_URL, params, SHARED_KEY, "HMAC_SHA256")
        header = {
            "X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
        }
        assert (
            post_signed(client, STATUS_URL, params, signature=signature, headers=header).status_code
            == 200
        )
        forged = sign(STATUS_URL, params, "another-key-123456", "HMAC_SHA256")
        assert (
            post_signed(
                client,
                STATUS_URL,
                {**params, "MessageStatus": "delivered"},
                signature=forged,
                headers=header,
            ).status_code
            == 400
        )

    def test_garbage_is_400(self, client, db):
        assert post_signed(client, STATUS_URL, {"Nothing": "here"}).status_code == 400
        response = client.post(
            "/integrations/webhooks/twilio/status/",
            data=b"\xff\xfe",
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": "x"},
        )
        assert response.status_code == 400


@pytest.mark.django_db
class TestOrdering:
    def test_late_callbacks_never_move_backwards(self, client, sms):
        status(client, "delivered")
        status(client, "sent")
        status(client, "queued")
        sms.refresh_from_db()
        assert sms.status == "delivered"
        assert sms.delivered_at is not None

    def test_duplicates_are_processed_once(self, client, sms):
        status(client, "sent")
        assert status(client, "sent").json()["duplicate"] is True

    def test_read_follows_delivered_but_not_failed(self, client, sms):
        status(client, "delivered")
        status(client, "read")
        sms.refresh_from_db()
        assert (sms.status, sms.read_at is not None) == ("read", True)
        other = SMS.objects.create(to_number=TO, status="queued", external_id="SM" + "4" * 32)
        status(client, "failed", sid=other.external_id)
        status(client, "read", sid=other.external_id)
        other.refresh_from_db()
        assert other.status == "failed"

    def test_finals_never_change(self, client, sms):
        post_signed(
            client,
            STATUS_URL,
            {
                "MessageSid": SID,
                "MessageStatus": "undelivered",
                "ErrorCode": "30003",
                "ErrorMessage": "Unreachable",
            },
        )
        status(client, "delivered")
        sms.refresh_from_db()
        assert (sms.status, sms.error_code, sms.error_message) == (
            "undelivered",
            "30003",
            "Unreachable",
        )

    def test_unknown_message_is_harmless(self, client, db):
        assert status(client, "sent", sid="SM" + "9" * 32).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_callbacks_end_forward(postgres_only, live_twilio):
    SMS.objects.create(to_number=TO, status="queued", external_id=SID)
    order = iter(["sent", "delivered", "sending", "sent", "delivered", "queued"])
    values = [next(order) for _ in range(6)]
    run_concurrently(lambda: status(Client(), values.pop()), 6)
    assert SMS.objects.get().status == "delivered"


@pytest.mark.django_db
class TestInbound:
    def inbound(self, client, body, sender=TO, sid="SM" + "5" * 32):
        return post_signed(
            client, INBOUND_URL, {"MessageSid": sid, "From": sender, "To": FROM, "Body": body}
        )

    def test_stored_signalled_and_answered_with_empty_twiml(self, client):
        received = []

        def on_sms(sender, sms, **kwargs):
            received.append((sender, sms.body))

        sms_received.connect(on_sms)
        try:
            response = self.inbound(client, "Hello!")
        finally:
            sms_received.disconnect(on_sms)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/xml")
        assert response.content.decode().endswith("<Response></Response>")
        sms = SMS.objects.get()
        assert (sms.direction, sms.from_number, sms.to_number, sms.body) == (
            "inbound",
            TO,
            FROM,
            "Hello!",
        )
        assert received == [("twilio", "Hello!")]

    def test_duplicate_inbound_is_stored_once(self, client):
        self.inbound(client, "once")
        self.inbound(client, "once")
        assert SMS.objects.count() == 1

    def test_stop_and_start(self, client):
        self.inbound(client, " stop ", sid="SM" + "6" * 32)
        assert PhoneOptOut.objects.filter(phone_number=TO, keyword="STOP").exists()
        self.inbound(client, "START", sid="SM" + "7" * 32)
        assert not PhoneOptOut.objects.exists()

    def test_whatsapp_and_short_code_senders(self, client):
        self.inbound(client, "hi", sender=f"whatsapp:{TO}", sid="SM" + "8" * 32)
        self.inbound(client, "hi", sender="72345", sid="SM" + "a" * 32)
        channels = dict(SMS.objects.values_list("from_number", "channel"))
        assert channels == {TO: "whatsapp", "72345": "sms"}

    def test_forged_inbound_is_refused(self, client):
        params = {"MessageSid": "SM" + "b" * 32, "From": TO, "Body": "hi"}
        assert post_signed(client, INBOUND_URL, params, token="nope-nope-nope").status_code == 400
        assert not SMS.objects.exists()
