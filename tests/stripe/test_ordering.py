"""Local Stripe state only moves forward: replays and late events never undo newer state.

Each replay runs through the admin action, the command and ``reprocess()``
(the ``replay`` fixture); late and out-of-order deliveries go through the
real webhook endpoint.
"""

from __future__ import annotations

import time

import pytest
import responses

from patchbay.models import StripeCustomer, StripeSubscription, WebhookEvent
from patchbay.stripe import shortcuts
from patchbay.webhooks import receiver
from patchbay.webhooks.registry import disconnect
from tests.replay import replay
from tests.stripe.conftest import API, make_event, post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_stripe")]
__all__ = ["replay"]  # a fixture


def subscription(status="active", *, cancel_at_period_end=False, canceled_at=None):
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": canceled_at,
        "metadata": {},
        "items": {"data": [{"price": {"id": "price_pro"}, "current_period_end": 1_900_000_000}]},
    }


def deliver(client, event_type, obj, *, created, event_id):
    response = post_event(client, make_event(event_type, obj, created=created, event_id=event_id))
    assert response.status_code == 200, response.content
    return response


def stored():
    return StripeSubscription.objects.get(subscription_id="sub_1")


class TestCancelTakesPartInTheOrdering:
    """The reported failure: reprocessing ``.created`` after a cancel undid the cancel."""

    @responses.activate
    @pytest.mark.parametrize("answer_has_canceled_at", [True, False])
    def test_replaying_created_after_cancel_keeps_the_cancellation(
        self, client, replay, answer_has_canceled_at
    ):
        now = int(time.time())
        deliver(client, "customer.subscription.created", subscription(), created=now, event_id="e1")
        answer = subscription(cancel_at_period_end=True, canceled_at=now)
        if not answer_has_canceled_at:
            del answer["canceled_at"]
        responses.post(f"{API}/subscriptions/sub_1", json=answer)
        assert shortcuts.cancel_user_subscription("sub_1")["success"] is True
        assert stored().cancel_at_period_end is True

        assert replay("e1") == "processed"

        assert stored().cancel_at_period_end is True

    @responses.activate
    def test_replaying_created_after_an_immediate_cancel_keeps_it_canceled(self, client, replay):
        now = int(time.time())
        deliver(client, "customer.subscription.created", subscription(), created=now, event_id="e1")
        responses.delete(
            f"{API}/subscriptions/sub_1", json=subscription("canceled", canceled_at=now)
        )
        assert shortcuts.cancel_user_subscription("sub_1", at_period_end=False)["success"]

        replay("e1")

        assert stored().status == "canceled"

    @responses.activate
    def test_stripes_own_events_after_the_cancel_still_apply(self, client):
        now = int(time.time())
        deliver(client, "customer.subscription.created", subscription(), created=now, event_id="e1")
        responses.post(
            f"{API}/subscriptions/sub_1",
            json=subscription(cancel_at_period_end=True, canceled_at=now),
        )
        shortcuts.cancel_user_subscription("sub_1")
        # The event of the cancel itself, in the same second as Stripe's answer.
        deliver(
            client,
            "customer.subscription.updated",
            subscription(cancel_at_period_end=True, canceled_at=now),
            created=now,
            event_id="e2",
        )
        assert stored().cancel_at_period_end is True
        # The customer changes their mind a second later.
        deliver(
            client, "customer.subscription.updated", subscription(), created=now + 1, event_id="e3"
        )
        assert stored().cancel_at_period_end is False

    @responses.activate
    def test_a_cancel_older_than_the_stored_state_changes_nothing(self, client):
        now = int(time.time())
        deliver(client, "customer.subscription.updated", subscription(), created=now, event_id="e1")
        # An answer describing the subscription as it was before the stored event.
        responses.post(
            f"{API}/subscriptions/sub_1",
            json=subscription(cancel_at_period_end=True, canceled_at=now - 60),
        )
        assert shortcuts.cancel_user_subscription("sub_1")["success"] is True
        assert stored().cancel_at_period_end is False


class TestEventsOfOneSecond:
    """Stripe's ``created`` has 1-second resolution: ties are ordered by arrival."""

    def test_a_genuine_later_event_of_the_same_second_applies(self, client):
        now = int(time.time())
        deliver(client, "customer.subscription.updated", subscription(), created=now, event_id="a")
        deliver(
            client,
            "customer.subscription.updated",
            subscription(cancel_at_period_end=True),
            created=now,
            event_id="b",
        )
        assert stored().cancel_at_period_end is True

    def test_replaying_an_earlier_event_of_the_same_second_changes_nothing(self, client, replay):
        now = int(time.time())
        deliver(client, "customer.subscription.updated", subscription(), created=now, event_id="a")
        deliver(
            client,
            "customer.subscription.updated",
            subscription(cancel_at_period_end=True),
            created=now,
            event_id="b",
        )
        replay("a")
        assert stored().cancel_at_period_end is True

    def test_replaying_the_event_that_set_the_state_keeps_it(self, client, replay):
        now = int(time.time())
        deliver(client, "customer.subscription.created", subscription(), created=now, event_id="a")
        replay("a")
        assert (stored().status, stored().price_id) == ("active", "price_pro")

    def test_replaying_an_older_event_changes_nothing(self, client, replay):
        now = int(time.time())
        deliver(
            client,
            "customer.subscription.created",
            subscription("incomplete"),
            created=now - 5,
            event_id="a",
        )
        deliver(
            client,
            "customer.subscription.updated",
            subscription("past_due"),
            created=now,
            event_id="b",
        )
        replay("a")
        assert stored().status == "past_due"

    def test_incomplete_never_comes_back_once_left(self, client):
        # Delivered out of order within one second: ``.updated`` (active) first.
        now = int(time.time())
        deliver(client, "customer.subscription.updated", subscription(), created=now, event_id="b")
        deliver(
            client,
            "customer.subscription.created",
            subscription("incomplete"),
            created=now,
            event_id="a",
        )
        assert stored().status == "active"

    def test_a_redelivery_after_a_failure_keeps_its_first_arrival(self, client):
        """Failed at first, redelivered after a later event of its second: not applied."""
        failing = {"on": True}

        def flaky(event):
            if failing["on"] and event.event_id == "a":
                raise RuntimeError("down")

        receiver("stripe", "customer.subscription.updated")(flaky)
        try:
            now = int(time.time())
            event_a = make_event(
                "customer.subscription.updated", subscription(), created=now, event_id="a"
            )
            assert post_event(client, event_a).status_code == 500
            deliver(
                client,
                "customer.subscription.updated",
                subscription(cancel_at_period_end=True),
                created=now,
                event_id="b",
            )
            failing["on"] = False
            assert post_event(client, event_a).status_code == 200
        finally:
            disconnect("stripe", "customer.subscription.updated", flaky)
        assert WebhookEvent.objects.get(event_id="a").status == "processed"
        assert stored().cancel_at_period_end is True


class TestInvoices:
    def test_an_older_invoice_event_does_not_undo_a_newer_one(self, client, replay):
        now = int(time.time())
        deliver(client, "customer.subscription.created", subscription(), created=now, event_id="s")
        invoice = {"id": "in_1", "object": "invoice", "subscription": "sub_1"}
        deliver(client, "invoice.payment_failed", invoice, created=now, event_id="failed")
        deliver(client, "invoice.paid", invoice, created=now + 60, event_id="paid")
        replay("failed")
        assert stored().latest_invoice_status == "paid"

    def test_a_late_failure_does_not_undo_a_payment(self, client):
        now = int(time.time())
        deliver(client, "customer.subscription.created", subscription(), created=now, event_id="s")
        invoice = {"id": "in_1", "object": "invoice", "subscription": "sub_1"}
        deliver(client, "invoice.paid", invoice, created=now + 60, event_id="paid")
        deliver(client, "invoice.payment_failed", invoice, created=now, event_id="failed")
        assert stored().latest_invoice_status == "paid"


class TestCustomers:
    def session(self, email, session_id):
        return {
            "id": session_id,
            "object": "checkout.session",
            "customer": "cus_1",
            "customer_email": email,
        }

    def test_replaying_an_older_checkout_keeps_the_newer_email(self, client, replay):
        now = int(time.time())
        deliver(
            client,
            "checkout.session.completed",
            self.session("old@example.com", "cs_1"),
            created=now - 60,
            event_id="old",
        )
        deliver(
            client,
            "checkout.session.completed",
            self.session("new@example.com", "cs_2"),
            created=now,
            event_id="new",
        )
        replay("old")
        assert StripeCustomer.objects.get().email == "new@example.com"

    def test_a_late_checkout_event_keeps_the_newer_email(self, client):
        now = int(time.time())
        deliver(
            client,
            "checkout.session.completed",
            self.session("new@example.com", "cs_2"),
            created=now,
            event_id="new",
        )
        deliver(
            client,
            "checkout.session.completed",
            self.session("old@example.com", "cs_1"),
            created=now - 60,
            event_id="old",
        )
        assert StripeCustomer.objects.get().email == "new@example.com"
