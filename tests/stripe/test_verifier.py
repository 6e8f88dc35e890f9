"""Stripe's verifier decides for the endpoint and verify_webhook_signature alike."""

from __future__ import annotations

import json
import time

import pytest
from django.test import RequestFactory

from patchbay.stripe import signature as stripe_signature
from patchbay.stripe.client import StripeClient
from patchbay.stripe.signature import StripeWebhookVerifier
from patchbay.webhooks import VerifiedDelivery
from tests.stripe.conftest import WEBHOOK_SECRET, sign

pytestmark = pytest.mark.django_db

STRIPE_URL = "/integrations/webhooks/stripe/"
SECRET = "whsec_verifier_test_0123456789"

EVENT = json.dumps({"id": "evt_1", "type": "product.created", "object": "event"})


@pytest.fixture(params=["sdk", "patchbay"])
def stripe_verifier(request, monkeypatch, live_stripe):
    """With the SDK's verifier, and with patchbay's own (used when the SDK is missing)."""
    if request.param == "patchbay":
        monkeypatch.setattr(stripe_signature, "sdk_available", lambda module: False)
    return request.param


def both_ways(client, body, header):
    """What the endpoint answers, and what the client-side check returns."""
    headers = {"Stripe-Signature": header} if header is not None else {}
    response = client.post(STRIPE_URL, data=body, content_type="application/json", headers=headers)
    return response, StripeClient().verify_webhook_signature(body, header)


@pytest.mark.usefixtures("stripe_verifier")
@pytest.mark.parametrize(
    ("body", "header", "error_code"),
    # Headers are signed when the test runs, not when it is collected: a signature made
    # at collection is older than the 300 s tolerance by the time a long suite gets here.
    [
        (EVENT, lambda: sign(EVENT, "whsec_wrong"), "invalid_signature"),
        (EVENT, lambda: sign(EVENT, WEBHOOK_SECRET, int(time.time()) - 3600), "invalid_signature"),
        (EVENT, lambda: None, "invalid_signature"),
        (EVENT, lambda: "t=notanumber,v1=abc", "invalid_signature"),
        ("not json", lambda: sign("not json"), "invalid_payload"),
        ('{"no": "id"}', lambda: sign('{"no": "id"}'), "invalid_payload"),
    ],
    ids=["wrong-secret", "too-old", "no-header", "malformed", "not-json", "not-an-event"],
)
def test_a_refusal_has_the_same_reason_both_ways(client, body, header, error_code):
    response, result = both_ways(client, body, header())

    assert response.status_code == 400
    assert result == {
        "success": False,
        "error": response.json()["error"],
        "error_code": error_code,
        "retryable": False,
        "verified": False,
        "event": None,
    }


def test_not_configured_is_refused_for_the_same_reason_both_ways(client, live_stripe):
    live_stripe.STRIPE_WEBHOOK_SECRET = ""

    response, result = both_ways(client, EVENT, sign(EVENT))

    assert response.json() == {"error": "STRIPE_WEBHOOK_SECRET is not configured."}
    assert (result["error"], result["error_code"]) == (
        response.json()["error"],
        "not_configured",
    )


@pytest.mark.usefixtures("stripe_verifier")
def test_an_authentic_event_is_accepted_both_ways(client):
    response, result = both_ways(client, EVENT, sign(EVENT))

    assert response.json() == {"status": "ignored", "duplicate": False}
    assert result == {"success": True, "verified": True, "event": json.loads(EVENT)}


def test_both_ways_verify_with_the_clients_verifier(client, live_stripe, monkeypatch):
    # One verifier decides for both: replacing it changes what each accepts.
    other = "whsec_from_the_replaced_verifier"
    monkeypatch.setattr(
        StripeClient, "webhook_verifier", lambda self: StripeWebhookVerifier([other])
    )

    response, result = both_ways(client, EVENT, sign(EVENT, other))

    assert (response.status_code, result["verified"]) == (200, True)
    assert both_ways(client, EVENT, sign(EVENT))[1]["verified"] is False


def test_the_client_side_check_honours_its_own_secret(live_stripe):
    client = StripeClient(webhook_secret="whsec_argument_0123456789")

    assert client.verify_webhook_signature(EVENT, sign(EVENT, "whsec_argument_0123456789"))[
        "verified"
    ]
    assert not client.verify_webhook_signature(EVENT, sign(EVENT))["verified"]


def test_the_verifier_works_without_a_request():
    delivery = StripeWebhookVerifier([SECRET]).verify_signature(EVENT, sign(EVENT, SECRET))

    assert delivery == VerifiedDelivery("evt_1", "product.created", json.loads(EVENT))


def test_the_verifier_reads_the_header_from_the_request():
    request = RequestFactory().post(
        "/",
        data=EVENT,
        content_type="application/json",
        headers={"Stripe-Signature": sign(EVENT, SECRET)},
    )

    assert StripeWebhookVerifier([SECRET]).verify(request, EVENT.encode()).event_id == "evt_1"
