from __future__ import annotations

import time

import pytest
from django.test import Client

from patchbay.models import StripeCustomer, StripeSubscription, WebhookEvent
from patchbay.webhooks import receiver
from patchbay.webhooks.registry import disconnect
from tests.conftest import run_concurrently
from tests.stripe.conftest import make_event, post_event

pytestmark = [pytest.mark.usefixtures("live_stripe")]


def subscription(
    status="active",
    *,
    sub_id="sub_1",
    customer="cus_1",
    period_end=1_900_000_000,
    cancel_at_period_end=False,
    metadata=None,
):
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "metadata": metadata or {},
        "items": {"data": [{"price": {"id": "price_pro"}, "current_period_end": period_end}]},
    }


@pytest.mark.django_db
class TestEndpoint:
    def test_valid_event_is_stored_and_processed(self, client):
        response = post_event(
            client, make_event("customer.subscription.created", subscription(), event_id="evt_a")
        )
        assert response.status_code == 200
        event = WebhookEvent.objects.get(provider="stripe")
        assert (event.event_id, event.status) == ("evt_a", "processed")
        sub = StripeSubscription.objects.get()
        assert (sub.status, sub.price_id, sub.customer_id) == ("active", "price_pro", "cus_1")
        assert sub.current_period_end.timestamp() == 1_900_000_000

    def test_unhandled_event_type_is_ignored(self, client):
        response = post_event(client, make_event("product.created", {"id": "prod_1"}))
        assert response.json()["status"] == "ignored"

    @pytest.mark.parametrize(
        ("kwargs", "headers"),
        [
            ({"secret": "whsec_wrong"}, {}),
            ({"timestamp": int(time.time()) - 3600}, {}),
            ({}, {"Stripe-Signature": ""}),
            ({}, {"Stripe-Signature": "t=1,v1=garbage"}),
        ],
    )
    def test_bad_signatures_are_400(self, client, kwargs, headers):
        response = post_event(
            client, make_event("invoice.paid", {"id": "in_1"}), **kwargs, **headers
        )
        assert response.status_code == 400
        assert response.json()["error"]
        assert not WebhookEvent.objects.exists()

    def test_garbage_body_is_400(self, client):
        from tests.stripe.conftest import sign

        for body in ["not json", "[]", '{"no": "id"}']:
            response = client.post(
                "/integrations/webhooks/stripe/",
                data=body,
                content_type="application/json",
                headers={"Stripe-Signature": sign(body)},
            )
            assert response.status_code == 400

    def test_oversize_is_413(self, client, settings):
        settings.PATCHBAY_WEBHOOK_MAX_BODY_SIZE = 512
        response = post_event(client, make_event("invoice.paid", {"id": "in_1", "pad": "x" * 1000}))
        assert response.status_code == 413

    def test_duplicate_delivery_runs_handlers_once(self, client):
        calls = []
        handler = receiver("stripe", "invoice.paid")(lambda event: calls.append(event.event_id))
        try:
            event = make_event("invoice.paid", {"id": "in_1"}, event_id="evt_dup")
            assert post_event(client, event).status_code == 200
            assert post_event(client, event).json()["duplicate"] is True
        finally:
            disconnect("stripe", "invoice.paid", handler)
        assert calls == ["evt_dup"]

    def test_handler_failure_then_redelivery(self, client):
        failing = {"on": True}

        def handler(event):
            if failing["on"]:
                raise RuntimeError("mail server down")

        receiver("stripe", "invoice.payment_failed")(handler)
        try:
            event = make_event("invoice.payment_failed", {"id": "in_2"}, event_id="evt_retry")
            assert post_event(client, event).status_code == 500
            assert WebhookEvent.objects.get().status == "failed"
            failing["on"] = False
            assert post_event(client, event).status_code == 200
            assert WebhookEvent.objects.get().status == "processed"
        finally:
            disconnect("stripe", "invoice.payment_failed", handler)


@pytest.mark.django_db
class TestLocalState:
    def test_older_events_never_overwrite_newer_state(self, client):
        now = int(time.time())
        post_event(
            client,
            make_event("customer.subscription.updated", subscription("past_due"), created=now),
        )
        post_event(
            client,
            make_event(
                "customer.subscription.created", subscription("incomplete"), created=now - 60
            ),
        )
        assert StripeSubscription.objects.get().status == "past_due"

    def test_deleted_is_final(self, client):
        now = int(time.time())
        post_event(
            client,
            make_event("customer.subscription.deleted", subscription("canceled"), created=now),
        )
        post_event(
            client, make_event("customer.subscription.updated", subscription("active"), created=now)
        )
        assert StripeSubscription.objects.get().status == "canceled"

    def test_checkout_links_user_and_orphan_subscriptions(self, client, django_user_model):
        user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
        post_event(
            client, make_event("customer.subscription.created", subscription(customer="cus_ada"))
        )
        assert StripeSubscription.objects.get().user is None
        session = {
            "id": "cs_1",
            "object": "checkout.session",
            "customer": "cus_ada",
            "client_reference_id": str(user.pk),
            "customer_email": "ada@example.com",
        }
        post_event(client, make_event("checkout.session.completed", session))
        assert StripeCustomer.objects.get().user == user
        assert StripeSubscription.objects.get().user == user

    def test_a_checkout_without_an_email_keeps_the_known_one(self, client, django_user_model):
        user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
        StripeCustomer.objects.create(customer_id="cus_ada", user=user, email="ada@example.com")
        session = {
            "id": "cs_2",
            "object": "checkout.session",
            "customer": "cus_ada",
            "client_reference_id": str(user.pk),
            "customer_email": None,
            "customer_details": {"email": None},
        }
        post_event(client, make_event("checkout.session.completed", session))
        assert StripeCustomer.objects.get().email == "ada@example.com"
        changed = {**session, "id": "cs_3", "customer_details": {"email": "ada@new.example"}}
        post_event(client, make_event("checkout.session.completed", changed))
        assert StripeCustomer.objects.get().email == "ada@new.example"

    def test_subscription_metadata_names_the_user(self, client, django_user_model):
        user = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
        post_event(
            client,
            make_event(
                "customer.subscription.created", subscription(metadata={"user_id": str(user.pk)})
            ),
        )
        assert StripeSubscription.objects.get().user == user

    def test_hostile_user_id_is_ignored(self, client):
        response = post_event(
            client,
            make_event(
                "customer.subscription.created", subscription(metadata={"user_id": "'; drop"})
            ),
        )
        assert response.status_code == 200
        assert StripeSubscription.objects.get().user is None

    def test_invoice_events_record_payment_state(self, client):
        post_event(client, make_event("customer.subscription.created", subscription()))
        post_event(
            client, make_event("invoice.payment_failed", {"id": "in_1", "subscription": "sub_1"})
        )
        assert StripeSubscription.objects.get().latest_invoice_status == "payment_failed"
        new_api_invoice = {
            "id": "in_2",
            "parent": {"subscription_details": {"subscription": "sub_1"}},
        }
        post_event(client, make_event("invoice.paid", new_api_invoice))
        assert StripeSubscription.objects.get().latest_invoice_status == "paid"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_processed_once(postgres_only):
    calls = []

    def slow(event):
        calls.append(event.event_id)
        time.sleep(0.4)

    receiver("stripe", "invoice.paid")(slow)
    event = make_event("invoice.paid", {"id": "in_1"}, event_id="evt_concurrent")
    try:
        codes = run_concurrently(lambda: post_event(Client(), event).status_code, 3)
    finally:
        disconnect("stripe", "invoice.paid", slow)
    assert codes == [200, 200, 200]
    assert calls == ["evt_concurrent"]
