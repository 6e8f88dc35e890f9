"""A Checkout session completes once, and a subscribed user is not sold a second subscription."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
from django.utils.html import escape

from patchbay import checks
from patchbay.core.simulation import outbox
from patchbay.models import StripeCustomer, StripeSubscription, WebhookEvent
from patchbay.stripe import shortcuts
from patchbay.webhooks import receiver
from patchbay.webhooks.registry import disconnect
from tests.stripe.conftest import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw")


@pytest.fixture
def simulate(settings):
    settings.PATCHBAY_SIMULATE = True


@pytest.mark.usefixtures("simulate")
class TestSimulatedSessionCompletesOnce:
    def test_back_then_pay_creates_nothing_more(self, client, user):
        client.force_login(user)
        session = shortcuts.create_subscription_checkout("price_pro", user=user)["session"]
        assert client.post(session["url"], {"action": "pay"}).status_code == 302

        again = client.post(session["url"], {"action": "pay"})

        assert again.status_code == 409
        assert b"already complete" in again.content
        assert StripeSubscription.objects.count() == 1
        assert StripeCustomer.objects.count() == 1
        assert WebhookEvent.objects.filter(event_type="checkout.session.completed").count() == 1

    def test_the_page_of_a_completed_session_offers_no_pay_button(self, client, user):
        session = shortcuts.create_subscription_checkout("price_pro", user=user)["session"]
        client.post(session["url"], {"action": "pay"})
        page = client.get(session["url"])
        assert page.status_code == 200
        assert b"already complete" in page.content
        assert b'value="pay"' not in page.content
        success_url = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        assert escape(success_url).encode() in page.content

    def test_your_handler_runs_once(self, client, user):
        seen = []
        handler = receiver("stripe", "checkout.session.completed")(
            lambda event: seen.append(event.event_id)
        )
        try:
            session = shortcuts.create_checkout_session("price_once", user=user)["session"]
            client.post(session["url"], {"action": "pay"})
            client.post(session["url"], {"action": "pay"})
        finally:
            disconnect("stripe", "checkout.session.completed", handler)
        assert len(seen) == 1

    def test_pay_again_after_a_failed_delivery_retries_it_once(self, client, user):
        failing = {"on": True}

        def flaky(event):
            if failing["on"]:
                raise RuntimeError("handler bug")

        receiver("stripe", "checkout.session.completed")(flaky)
        try:
            session = shortcuts.create_subscription_checkout("price_pro", user=user)["session"]
            assert client.post(session["url"], {"action": "pay"}).status_code == 502
            failing["on"] = False
            assert client.post(session["url"], {"action": "pay"}).status_code == 302
            assert client.post(session["url"], {"action": "pay"}).status_code == 409
        finally:
            disconnect("stripe", "checkout.session.completed", flaky)
        assert StripeSubscription.objects.count() == 1
        assert StripeCustomer.objects.get().user == user

    def test_two_sessions_are_two_purchases(self, client, user):
        for _ in range(2):
            session = shortcuts.create_checkout_session("price_once", user=user)["session"]
            assert client.post(session["url"], {"action": "pay"}).status_code == 302
        assert WebhookEvent.objects.filter(event_type="checkout.session.completed").count() == 2


def subscribed(user, status="active"):
    return StripeSubscription.objects.create(
        subscription_id="sub_1", customer_id="cus_1", user=user, status=status
    )


@pytest.mark.usefixtures("simulate")
class TestAlreadySubscribed:
    def test_refused_by_default(self, user):
        subscribed(user)
        result = shortcuts.create_subscription_checkout("price_pro", user=user)
        assert result["success"] is False
        assert result["error_code"] == "already_subscribed"
        assert result["retryable"] is False
        assert not outbox.filter(provider="stripe", operation="create_checkout_session")

    @pytest.mark.parametrize("status", ["trialing", "past_due", "unpaid"])
    def test_any_live_subscription_counts(self, user, status):
        subscribed(user, status)
        result = shortcuts.create_subscription_checkout("price_pro", user=user)
        assert result["error_code"] == "already_subscribed"

    @pytest.mark.parametrize("status", ["canceled", "incomplete", "incomplete_expired"])
    def test_an_ended_or_unpaid_start_does_not(self, user, status):
        subscribed(user, status)
        assert shortcuts.create_subscription_checkout("price_pro", user=user)["success"] is True

    def test_others_and_anonymous_visitors_check_out(self, user, django_user_model):
        subscribed(user)
        other = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
        assert shortcuts.create_subscription_checkout("price_pro", user=other)["success"]
        assert shortcuts.create_subscription_checkout("price_pro")["success"]

    def test_a_payment_checkout_is_not_concerned(self, user):
        subscribed(user)
        assert shortcuts.create_checkout_session("price_once", user=user)["success"] is True

    def test_allow(self, user, settings):
        settings.STRIPE_ALREADY_SUBSCRIBED = "allow"
        subscribed(user)
        result = shortcuts.create_subscription_checkout("price_pro", user=user)
        assert result["session"]["object"] == "checkout.session"

    def test_portal_sends_to_the_billing_portal(self, user, settings):
        settings.STRIPE_ALREADY_SUBSCRIBED = "portal"
        subscribed(user)
        result = shortcuts.create_subscription_checkout(
            "price_pro", user=user, cancel_url="https://shop.example/pricing/"
        )
        assert result["success"] is True
        assert result["already_subscribed"] is True
        assert result["session"]["object"] == "billing_portal.session"
        assert result["session"]["customer"] == "cus_1"
        assert result["session"]["return_url"] == "https://shop.example/pricing/"
        assert not outbox.filter(provider="stripe", operation="create_checkout_session")

    def test_an_invalid_value_is_a_check_error(self, settings):
        settings.STRIPE_ALREADY_SUBSCRIBED = "maybe"
        messages = checks.check_settings_types()
        assert [message.id for message in messages] == ["patchbay.E018"]
        assert messages[0].msg.startswith("STRIPE_ALREADY_SUBSCRIBED")


@pytest.mark.usefixtures("live_stripe")
class TestAlreadySubscribedLive:
    @responses.activate
    def test_refused_without_calling_stripe(self, user):
        subscribed(user)
        result = shortcuts.create_subscription_checkout("price_pro", user=user)
        assert result["error_code"] == "already_subscribed"
        assert len(responses.calls) == 0

    @responses.activate
    def test_portal(self, user, settings):
        settings.STRIPE_ALREADY_SUBSCRIBED = "portal"
        subscribed(user)
        responses.post(
            f"{API}/billing_portal/sessions",
            json={"id": "bps_1", "object": "billing_portal.session", "url": "https://billing/x"},
        )
        result = shortcuts.create_subscription_checkout("price_pro", user=user)
        assert result["session"]["url"] == "https://billing/x"
        sent = parse_qs(responses.calls[0].request.body)
        assert sent["customer"] == ["cus_1"]
