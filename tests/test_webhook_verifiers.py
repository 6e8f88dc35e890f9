"""The WebhookVerifier base: the endpoint answers its refusals; no verifier shows a secret."""

from __future__ import annotations

import json

import pytest
from django.http import HttpRequest
from django.urls import include, path

from patchbay.loops.signature import LoopsWebhookVerifier
from patchbay.models import IntegrationLog, WebhookEvent
from patchbay.stripe.signature import StripeWebhookVerifier
from patchbay.twilio.signature import InboundMessageVerifier, StatusCallbackVerifier
from patchbay.webhooks import (
    VerifiedDelivery,
    WebhookVerificationError,
    WebhookVerifier,
    WebhookView,
)
from tests.stripe.conftest import sign

STRIPE_URL = "/integrations/webhooks/stripe/"
REFUSING_URL = "/refusing/"
SECRET = "whsec_verifier_test_0123456789"


class Refusing(WebhookVerifier):
    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        raise WebhookVerificationError("Not from here.", error_code="forbidden", status=403)


class RefusingView(WebhookView):
    provider = "refusing"

    def get_verifier(self) -> WebhookVerifier:
        return Refusing()


urlpatterns = [
    path("refusing/", RefusingView.as_view()),
    path("", include("tests.urls")),
]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


# -- the base ---------------------------------------------------------------------------


def test_the_endpoint_answers_the_verifiers_reason_with_its_status(client):
    response = client.post(REFUSING_URL, data=b"{}", content_type="application/json")

    assert response.status_code == 403
    assert response.json() == {"error": "Not from here."}
    log = IntegrationLog.objects.get(provider="refusing")
    assert (log.status_code, log.error, log.error_code) == (
        403,
        "Not from here.",
        "verification_failed",
    )
    assert not WebhookEvent.objects.exists()


def test_a_refusal_defaults_to_an_invalid_signature_answered_400():
    refused = WebhookVerificationError("Bad signature.")

    assert (refused.reason, refused.error_code, refused.status) == (
        "Bad signature.",
        "invalid_signature",
        400,
    )
    assert str(refused) == "Bad signature."


@pytest.mark.parametrize(
    "verifier",
    [
        StripeWebhookVerifier([SECRET]),
        LoopsWebhookVerifier(SECRET),
        StatusCallbackVerifier(SECRET, signing_key=SECRET + "_shared"),
        InboundMessageVerifier(SECRET),
    ],
    ids=["stripe", "loops", "twilio-status", "twilio-inbound"],
)
def test_a_verifier_never_shows_its_secrets(verifier):
    assert repr(verifier) == f"<{type(verifier).__name__}>"
    assert SECRET not in repr(verifier) + str(verifier)


def test_a_verifier_is_made_per_delivery(client, settings):
    # The endpoint asks for a verifier each time: a rotated secret applies at once.
    settings.PATCHBAY_SIMULATE = False
    settings.STRIPE_WEBHOOK_SECRET = "whsec_old_0123456789"
    body = json.dumps({"id": "evt_1", "type": "product.created"})
    headers = {"Stripe-Signature": sign(body, "whsec_new_0123456789")}

    refused = client.post(STRIPE_URL, data=body, content_type="application/json", headers=headers)
    settings.STRIPE_WEBHOOK_SECRET = "whsec_new_0123456789"
    accepted = client.post(STRIPE_URL, data=body, content_type="application/json", headers=headers)

    assert (refused.status_code, accepted.status_code) == (400, 200)
