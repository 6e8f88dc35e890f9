from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest
import requests
import responses

from patchbay.models import IntegrationLog
from patchbay.stripe import signature as stripe_signature
from patchbay.stripe.client import StripeClient
from tests.stripe.conftest import API, API_KEY, WEBHOOK_SECRET, sign, stripe_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_stripe")]


def form(call):
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


@responses.activate
def test_create_customer():
    responses.post(
        f"{API}/customers", json={"id": "cus_1", "object": "customer", "email": "a@b.co"}
    )
    result = StripeClient().create_customer("a@b.co", name="Ada", metadata={"user_id": "7"})
    assert result == {
        "success": True,
        "customer": {"id": "cus_1", "object": "customer", "email": "a@b.co"},
    }
    request = responses.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert form(responses.calls[0]) == {"email": "a@b.co", "name": "Ada", "metadata[user_id]": "7"}
    log = IntegrationLog.objects.get()
    assert (log.operation, log.success) == ("create_customer", True)
    assert API_KEY not in json.dumps(log.request_summary)


@responses.activate
def test_results_are_the_answers_json_with_nested_objects_as_plain_dicts():
    answer = {
        "id": "cus_1",
        "object": "customer",
        "invoice_settings": {"default_payment_method": None, "custom_fields": None},
        "metadata": {"plan": "pro"},
        "preferred_locales": ["fr"],
    }
    responses.post(f"{API}/customers", json=answer)
    customer = StripeClient().create_customer("a@b.co")["customer"]
    assert customer == answer
    assert type(customer["invoice_settings"]) is dict
    json.dumps(customer)  # JSON-safe as it is


def test_objects_built_without_an_answer_are_converted_too():
    import stripe
    from patchbay.stripe.client import to_dict

    built = stripe.StripeObject.construct_from({"id": "sub_1", "items": {"data": []}}, "sk_x")
    assert to_dict(built) == {"id": "sub_1", "items": {"data": []}}


@responses.activate
def test_create_checkout_session_parameters():
    responses.post(
        f"{API}/checkout/sessions",
        json={
            "id": "cs_1",
            "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/cs_1",
        },
    )
    result = StripeClient().create_checkout_session(
        "price_1",
        "https://x.test/ok",
        "https://x.test/no",
        customer_email="a@b.co",
        mode="subscription",
        metadata={"user_id": "7"},
        payment_method_types=["card"],
    )
    assert result["session"]["url"] == "https://checkout.stripe.com/c/cs_1"
    assert form(responses.calls[0]) == {
        "mode": "subscription",
        "success_url": "https://x.test/ok",
        "cancel_url": "https://x.test/no",
        "line_items[0][price]": "price_1",
        "line_items[0][quantity]": "1",
        "metadata[user_id]": "7",
        "payment_method_types[0]": "card",
        "customer_email": "a@b.co",
    }


@responses.activate
def test_existing_customer_wins_over_email():
    responses.post(f"{API}/checkout/sessions", json={"id": "cs_1", "object": "checkout.session"})
    StripeClient().create_checkout_session(
        "price_1", "https://x/ok", "https://x/no", customer_id="cus_9", customer_email="a@b.co"
    )
    sent = form(responses.calls[0])
    assert sent["customer"] == "cus_9"
    assert "customer_email" not in sent


@responses.activate
def test_create_subscription_with_trial():
    responses.post(
        f"{API}/subscriptions", json={"id": "sub_1", "object": "subscription", "status": "trialing"}
    )
    result = StripeClient().create_subscription(
        "cus_1", "price_1", trial_days=14, metadata={"plan": "pro"}
    )
    assert result["subscription"]["status"] == "trialing"
    assert form(responses.calls[0]) == {
        "customer": "cus_1",
        "items[0][price]": "price_1",
        "metadata[plan]": "pro",
        "trial_period_days": "14",
    }


@responses.activate
def test_cancel_at_period_end_updates_and_immediate_cancel_deletes():
    responses.post(
        f"{API}/subscriptions/sub_1",
        json={"id": "sub_1", "object": "subscription", "cancel_at_period_end": True},
    )
    responses.delete(
        f"{API}/subscriptions/sub_1",
        json={"id": "sub_1", "object": "subscription", "status": "canceled"},
    )
    client = StripeClient()
    assert client.cancel_subscription("sub_1", at_period_end=True)["subscription"][
        "cancel_at_period_end"
    ]
    assert form(responses.calls[0]) == {"cancel_at_period_end": "true"}
    assert client.cancel_subscription("sub_1")["subscription"]["status"] == "canceled"
    assert responses.calls[1].request.method == "DELETE"


@responses.activate
def test_retrieve_portal_refund_and_probe():
    responses.get(f"{API}/subscriptions/sub_1", json={"id": "sub_1", "object": "subscription"})
    responses.post(
        f"{API}/billing_portal/sessions", json={"id": "bps_1", "url": "https://billing/x"}
    )
    responses.post(f"{API}/refunds", json={"id": "re_1", "object": "refund", "status": "succeeded"})
    responses.get(f"{API}/balance", json={"object": "balance", "available": []})
    client = StripeClient()
    assert client.retrieve_subscription("sub_1")["subscription"]["id"] == "sub_1"
    assert (
        client.create_billing_portal_session("cus_1", "https://x/account")["session"]["url"]
        == "https://billing/x"
    )
    assert client.create_refund(payment_intent_id="pi_1", amount=500)["refund"]["id"] == "re_1"
    assert form(responses.calls[2]) == {"payment_intent": "pi_1", "amount": "500"}
    assert client.check_health() == {"success": True, "healthy": True}


def test_refund_needs_exactly_one_target():
    assert StripeClient().create_refund()["error_code"] == "invalid_request"
    assert StripeClient().create_refund(payment_intent_id="pi", charge_id="ch")["success"] is False


@pytest.mark.parametrize(
    ("reply", "code", "retryable"),
    [
        (
            stripe_error("card_error", "Your card was declined.", 402, "card_declined"),
            "card_declined",
            False,
        ),
        (
            stripe_error("invalid_request_error", "Rate limited", 429, "rate_limit"),
            "rate_limited",
            True,
        ),
        (
            stripe_error(
                "invalid_request_error", "Invalid API Key provided: sk_test_****cdef", 401
            ),
            "authentication_error",
            False,
        ),
        (
            stripe_error(
                "invalid_request_error", "No such price: 'price_x'", 400, "resource_missing"
            ),
            "resource_missing",
            False,
        ),
        (stripe_error("api_error", "Something went wrong", 500), "api_error", True),
    ],
)
@responses.activate
def test_error_mapping(reply, code, retryable):
    responses.post(f"{API}/customers", **reply)
    result = StripeClient().create_customer("a@b.co")
    assert result["success"] is False
    assert (result["error_code"], result["retryable"]) == (code, retryable)
    assert result["error"]
    assert API_KEY not in result["error"]
    assert IntegrationLog.objects.get().status_code == reply["status"]


@responses.activate
def test_connection_error_is_mapped():
    responses.post(f"{API}/customers", body=requests.ConnectionError("refused"))
    result = StripeClient().create_customer("a@b.co")
    assert (result["error_code"], result["retryable"]) == ("connection_error", True)


@responses.activate
def test_sdk_retries_are_enabled(settings):
    settings.PATCHBAY_MAX_RETRIES = 1
    from patchbay.stripe.client import _sdk_client

    _sdk_client.cache_clear()
    responses.post(f"{API}/customers", **stripe_error("api_error", "Try again", 500))
    responses.post(f"{API}/customers", json={"id": "cus_2", "object": "customer"})
    assert StripeClient().create_customer("a@b.co")["customer"]["id"] == "cus_2"
    assert len(responses.calls) == 2
    # Retried POSTs carry one idempotency key, so Stripe cannot create two customers.
    keys = {call.request.headers["Idempotency-Key"] for call in responses.calls}
    assert len(keys) == 1


def test_never_uses_the_global_api_key():
    import stripe

    assert StripeClient().stripe is not None
    assert stripe.api_key is None


def test_api_base_setting_points_at_a_local_server(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"
    with responses.RequestsMock() as mock:
        mock.post(
            "http://127.0.0.1:12111/v1/customers", json={"id": "cus_local", "object": "customer"}
        )
        assert StripeClient().create_customer("a@b.co")["customer"]["id"] == "cus_local"


def test_simulation_signs_exactly_as_the_sdk_does():
    import stripe

    body = json.dumps({"id": "evt_1", "type": "invoice.paid"})
    assert sign(body, WEBHOOK_SECRET, 1700000000) == (
        stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET, 1700000000)
    )


class TestVerifyWebhookSignature:
    """With the SDK's verifier, and with patchbay's own (used when the SDK is missing)."""

    payload = json.dumps({"id": "evt_1", "type": "invoice.paid", "object": "event"})

    @pytest.fixture(autouse=True, params=["sdk", "patchbay"])
    def verifier(self, request, monkeypatch):
        if request.param == "patchbay":
            monkeypatch.setattr(stripe_signature, "sdk_available", lambda module: False)
        return request.param

    def test_the_verifier_in_use(self, verifier, monkeypatch):
        import stripe

        def refuse(*args):
            raise AssertionError("the SDK's verifier was called")

        monkeypatch.setattr(stripe.WebhookSignature, "verify_header", refuse)
        if verifier == "sdk":
            with pytest.raises(AssertionError, match="the SDK's verifier was called"):
                StripeClient().verify_webhook_signature(self.payload, sign(self.payload))
        else:
            assert StripeClient().verify_webhook_signature(self.payload, sign(self.payload))[
                "verified"
            ]

    def test_valid(self):
        result = StripeClient().verify_webhook_signature(self.payload, sign(self.payload))
        assert result["verified"] is True
        assert result["event"]["type"] == "invoice.paid"

    def test_rotated_secrets(self, settings):
        settings.STRIPE_WEBHOOK_SECRET = ["whsec_new", WEBHOOK_SECRET]
        assert StripeClient().verify_webhook_signature(self.payload, sign(self.payload))["verified"]

    @pytest.mark.parametrize(
        "header",
        [
            sign(payload, "whsec_wrong"),
            sign(payload, WEBHOOK_SECRET, int(time.time()) - 3600),
            None,
            "",
            "garbage",
            "t=notanumber,v1=abc",
        ],
    )
    def test_refused(self, header):
        result = StripeClient().verify_webhook_signature(self.payload, header)
        assert result["verified"] is False
        assert result["success"] is False
        assert result["event"] is None
        assert WEBHOOK_SECRET not in result["error"]

    def test_tolerance_setting(self, settings):
        settings.STRIPE_WEBHOOK_TOLERANCE = 7200
        header = sign(self.payload, WEBHOOK_SECRET, int(time.time()) - 3600)
        assert StripeClient().verify_webhook_signature(self.payload, header)["verified"]

    def test_missing_secret(self, settings):
        settings.STRIPE_WEBHOOK_SECRET = ""
        result = StripeClient().verify_webhook_signature(self.payload, sign(self.payload))
        assert result["error_code"] == "not_configured"
