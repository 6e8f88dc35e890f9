"""A Checkout session completes once, and a subscribed user is not sold a second subscription."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
from django.utils.html import escape

from patchbay import checks
from patchbay.core.simulation import outbox
from patchbay.models import StripeCustomer, StripeSubscription, WebhookEvent
from patchbay.stripe import shortcuts, simulation
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


@pytest.mark.usefixtures("simulate")
class TestSecondTabPaid:
    """Two Checkouts opened before either is paid (two tabs): only the first one subscribes."""

    def open_two(self, user):
        return [
            shortcuts.create_subscription_checkout(price, user=user)["session"]
            for price in ("price_basic", "price_pro")
        ]

    def test_paying_the_second_is_refused(self, client, user):
        first, second = self.open_two(user)
        assert client.post(first["url"], {"action": "pay"}).status_code == 302

        refused = client.post(second["url"], {"action": "pay"})

        assert refused.status_code == 409
        assert b"already has a subscription" in refused.content
        assert b'value="pay"' not in refused.content
        assert escape(second["cancel_url"]).encode() in refused.content
        assert StripeSubscription.objects.get().price_id == "price_basic"
        assert not WebhookEvent.objects.filter(
            event_id__in=[item["id"] for item in simulation.checkout_events(second)]
        ).exists()

    def test_the_second_page_says_so_before_pay(self, client, user):
        first, second = self.open_two(user)
        client.post(first["url"], {"action": "pay"})
        page = client.get(second["url"])
        assert page.status_code == 200
        assert b"already has a subscription" in page.content
        assert b'value="pay"' not in page.content

    def test_cancel_still_returns(self, client, user):
        first, second = self.open_two(user)
        client.post(first["url"], {"action": "pay"})
        back = client.post(second["url"], {"action": "cancel"})
        assert back.status_code == 302
        assert back["Location"] == second["cancel_url"]

    def test_after_the_first_ended_the_second_subscribes(self, client, user):
        first, second = self.open_two(user)
        client.post(first["url"], {"action": "pay"})
        StripeSubscription.objects.update(status="canceled")
        assert client.post(second["url"], {"action": "pay"}).status_code == 302
        assert StripeSubscription.objects.filter(status="active").count() == 1

    def test_allow_lets_both_subscribe(self, client, user, settings):
        settings.STRIPE_ALREADY_SUBSCRIBED = "allow"
        for session in self.open_two(user):
            assert client.post(session["url"], {"action": "pay"}).status_code == 302
        assert StripeSubscription.objects.filter(status="active").count() == 2

    def test_a_payment_checkout_is_not_concerned(self, client, user):
        first, _ = self.open_two(user)
        client.post(first["url"], {"action": "pay"})
        once = shortcuts.create_checkout_session("price_once", user=user)["session"]
        assert client.post(once["url"], {"action": "pay"}).status_code == 302


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
