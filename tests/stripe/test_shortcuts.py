from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
from django.contrib.auth.models import AnonymousUser

from patchbay.core.simulation import outbox
from patchbay.models import StripeCustomer, StripeSubscription
from patchbay.stripe import shortcuts
from tests.stripe.conftest import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        "ada", "ada@example.com", "pw", first_name="Ada", last_name="Lovelace"
    )


def sent(call):
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


@pytest.mark.usefixtures("live_stripe")
class TestLive:
    @responses.activate
    def test_checkout_for_a_new_user_uses_email_and_settings_urls(self, user, settings):
        settings.PATCHBAY_PUBLIC_URL = "https://shop.example.com"
        settings.STRIPE_CHECKOUT_SUCCESS_URL = "/thanks/"
        responses.post(f"{API}/checkout/sessions", json={"id": "cs_1", "url": "https://checkout/x"})
        result = shortcuts.create_checkout_session("price_1", user=user, mode="subscription")
        assert result["success"] is True
        body = sent(responses.calls[0])
        assert body["success_url"] == "https://shop.example.com/thanks/"
        assert body["cancel_url"] == "https://shop.example.com/?checkout=canceled"
        assert body["customer_email"] == "ada@example.com"
        assert body["client_reference_id"] == str(user.pk)
        assert body["metadata[user_id]"] == str(user.pk)
        assert body["subscription_data[metadata][user_id]"] == str(user.pk)

    @responses.activate
    def test_checkout_reuses_the_users_customer(self, user):
        StripeCustomer.objects.create(user=user, customer_id="cus_known")
        responses.post(f"{API}/checkout/sessions", json={"id": "cs_1"})
        shortcuts.create_subscription_checkout("price_1", user=user)
        body = sent(responses.calls[0])
        assert (body["customer"], body["mode"]) == ("cus_known", "subscription")
        assert "customer_email" not in body

    @responses.activate
    def test_checkout_for_an_anonymous_user_names_no_user(self):
        # request.user of a visitor: no "None" user id, and no customer that belongs to nobody.
        StripeCustomer.objects.create(customer_id="cus_orphan")
        responses.post(f"{API}/checkout/sessions", json={"id": "cs_1"})
        result = shortcuts.create_subscription_checkout(
            "price_1", user=AnonymousUser(), customer_email="guest@example.com"
        )
        assert result["success"] is True
        body = sent(responses.calls[0])
        assert body["customer_email"] == "guest@example.com"
        user_keys = {
            "customer",
            "client_reference_id",
            "metadata[user_id]",
            "subscription_data[metadata][user_id]",
        }
        assert not user_keys & body.keys()

    def test_create_customer_from_an_anonymous_user_is_refused(self):
        StripeCustomer.objects.create(customer_id="cus_orphan")
        result = shortcuts.create_customer_from_user(AnonymousUser())
        assert (result["success"], result["error_code"]) == (False, "invalid_request")
        assert "customer" not in result

    @responses.activate
    def test_create_customer_from_user_creates_once(self, user):
        responses.post(f"{API}/customers", json={"id": "cus_new", "object": "customer"})
        first = shortcuts.create_customer_from_user(user)
        second = shortcuts.create_customer_from_user(user)
        assert (first["created"], second["created"]) == (True, False)
        assert second["customer"]["id"] == "cus_new"
        assert len(responses.calls) == 1
        assert sent(responses.calls[0]) == {
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "metadata[user_id]": str(user.pk),
        }

    @responses.activate
    def test_cancel_user_subscription_updates_local_state(self, user):
        StripeSubscription.objects.create(
            subscription_id="sub_1", customer_id="cus_1", user=user, status="active"
        )
        responses.post(
            f"{API}/subscriptions/sub_1", json={"id": "sub_1", "cancel_at_period_end": True}
        )
        assert shortcuts.cancel_user_subscription("sub_1")["success"] is True
        assert StripeSubscription.objects.get().cancel_at_period_end is True
        assert shortcuts.get_active_subscription(user) is not None  # active until the period ends

    @responses.activate
    def test_cancel_failure_leaves_state_alone(self, user):
        StripeSubscription.objects.create(
            subscription_id="sub_1", customer_id="cus_1", status="active"
        )
        responses.post(
            f"{API}/subscriptions/sub_1",
            json={"error": {"type": "invalid_request_error", "message": "No such subscription"}},
            status=404,
        )
        result = shortcuts.cancel_user_subscription("sub_1")
        assert result["success"] is False
        assert StripeSubscription.objects.get().cancel_at_period_end is False

    def test_handle_webhook_event(self):
        import json

        from tests.stripe.conftest import sign

        payload = json.dumps({"id": "evt_1", "type": "invoice.paid"})
        assert shortcuts.handle_webhook_event(payload, sign(payload))["verified"] is True
        assert shortcuts.handle_webhook_event(payload, "t=1,v1=x")["verified"] is False


def test_get_active_subscription(user, django_user_model):
    assert shortcuts.get_active_subscription(user) is None
    StripeSubscription.objects.create(
        subscription_id="sub_old", customer_id="c", user=user, status="canceled"
    )
    assert shortcuts.get_active_subscription(user) is None
    StripeSubscription.objects.create(
        subscription_id="sub_new", customer_id="c", user=user, status="trialing"
    )
    assert shortcuts.get_active_subscription(user).subscription_id == "sub_new"
    from django.contrib.auth.models import AnonymousUser

    assert shortcuts.get_active_subscription(AnonymousUser()) is None


class TestSimulatedCheckout:
    @pytest.fixture(autouse=True)
    def _simulate(self, settings):
        settings.PATCHBAY_SIMULATE = True

    def test_subscription_flow_end_to_end(self, client, user):
        client.force_login(user)
        result = shortcuts.create_subscription_checkout(
            "price_pro", user=user, success_url="/done/?session={CHECKOUT_SESSION_ID}"
        )
        assert result["simulated"] is True
        session = result["session"]
        assert session["id"].startswith("cs_test_")
        page = client.get(session["url"])
        assert page.status_code == 200
        assert b"price_pro" in page.content
        response = client.post(session["url"], {"action": "pay"})
        assert response.status_code == 302
        assert response["Location"] == f"/done/?session={session['id']}"
        sub = shortcuts.get_active_subscription(user)
        assert sub is not None
        assert (sub.status, sub.price_id) == ("active", "price_pro")
        assert StripeCustomer.objects.get().user == user
        assert sorted(
            StripeSubscription.objects.values_list("latest_invoice_status", flat=True)
        ) == ["paid"]
        assert outbox.filter(provider="stripe", operation="create_checkout_session")

    def test_a_second_checkout_keeps_the_customers_email(self, client, user):
        for price in ("price_once", "price_again"):
            session = shortcuts.create_checkout_session(price, user=user)["session"]
            client.post(session["url"], {"action": "pay"})
        customer = StripeCustomer.objects.get()
        assert (customer.user, customer.email) == (user, "ada@example.com")

    def test_an_anonymous_checkout_completes(self, client):
        result = shortcuts.create_checkout_session(
            "price_once", user=AnonymousUser(), customer_email="guest@example.com"
        )
        session = result["session"]
        assert session["metadata"] == {}
        assert session["client_reference_id"] is None
        assert client.post(session["url"], {"action": "pay"}).status_code == 302
        customer = StripeCustomer.objects.get()
        assert (customer.user, customer.email) == (None, "guest@example.com")

    def test_your_own_handlers_run_offline(self, client, user):
        from patchbay.webhooks import receiver
        from patchbay.webhooks.registry import disconnect

        seen = []
        handler = receiver("stripe", "checkout.session.completed")(
            lambda e: seen.append(e.event_type)
        )
        try:
            session = shortcuts.create_checkout_session("price_once", user=user)["session"]
            client.post(session["url"], {"action": "pay"})
        finally:
            disconnect("stripe", "checkout.session.completed", handler)
        assert seen == ["checkout.session.completed"]

    def test_cancel_goes_to_cancel_url(self, client):
        session = shortcuts.create_checkout_session("price_1", cancel_url="/nope/")["session"]
        response = client.post(session["url"], {"action": "cancel"})
        assert response["Location"] == "/nope/"

    def test_tampered_session_is_404(self, client):
        session = shortcuts.create_checkout_session("price_1")["session"]
        assert client.get(session["url"].replace(":", ":x", 1)).status_code == 404

    def test_page_is_gone_when_live(self, client, settings):
        session = shortcuts.create_checkout_session("price_1")["session"]
        settings.PATCHBAY_SIMULATE = False
        assert client.get(session["url"]).status_code == 404

    def test_simulated_shortcuts_shapes(self, user):
        result = shortcuts.create_customer_from_user(user)
        assert result["customer"]["id"].startswith("cus_")
        assert result["simulated"] is True
        assert StripeCustomer.objects.get().user == user
