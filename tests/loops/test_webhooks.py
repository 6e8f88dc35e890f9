from __future__ import annotations

import time

import pytest

from patchbay.models import EmailEvent, EmailSuppression, WebhookEvent
from patchbay.signals import email_event_received
from tests.loops.helpers import live_loops, loops_payload, post_signed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_loops")]
__all__ = ["live_loops"]


@pytest.mark.parametrize(
    ("event_name", "kind"),
    [
        ("transactional.email.sent", "sent"),
        ("campaign.email.sent", "sent"),
        ("loop.email.sent", "sent"),
        ("email.delivered", "delivered"),
        ("email.softBounced", "deferred"),
        ("email.hardBounced", "bounced"),
        ("email.spamReported", "complained"),
        ("contact.unsubscribed", "unsubscribed"),
    ],
)
def test_events_are_normalized_and_stored(client, event_name, kind):
    response = post_signed(client, loops_payload(event_name, transactionalId="tpl_1"))
    assert response.status_code == 200
    stored = EmailEvent.objects.get()
    assert (stored.email, stored.kind, stored.provider_event) == (
        "ada@example.com",
        kind,
        event_name,
    )
    assert stored.message_id == "msg_1"
    assert stored.webhook_event.event_type == event_name
    suppressed = EmailSuppression.objects.filter(email="ada@example.com").exists()
    assert suppressed is (kind in {"bounced", "complained", "unsubscribed"})


def test_the_webhook_id_is_the_event_id_and_duplicates_run_once(client):
    received = []

    def on_event(sender, event, **kwargs):
        received.append((sender, event.kind))

    email_event_received.connect(on_event)
    try:
        first = post_signed(client, loops_payload("email.delivered"), message_id="msg_fixed")
        again = post_signed(client, loops_payload("email.delivered"), message_id="msg_fixed")
    finally:
        email_event_received.disconnect(on_event)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["duplicate"] is True
    assert WebhookEvent.objects.get().event_id == "msg_fixed"
    assert received == [("loops", "delivered")]


def test_events_that_are_not_deliveries_are_ignored(client):
    response = post_signed(
        client,
        {
            "eventName": "testing.testEvent",
            "eventTime": 1,
            "webhookSchemaVersion": "1.0.0",
            "message": "test",
        },
    )
    assert response.json()["status"] == "ignored"
    assert not EmailEvent.objects.exists()


def test_suppression_reasons_are_a_setting(client, settings):
    settings.PATCHBAY_EMAIL_SUPPRESS_ON = ["bounced"]
    post_signed(client, loops_payload("contact.unsubscribed"))
    assert not EmailSuppression.objects.exists()
    post_signed(client, loops_payload("email.hardBounced"))
    assert EmailSuppression.objects.get().reason == "bounced"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": "whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="},
        {"timestamp": int(time.time()) - 3600},
        {"timestamp": int(time.time()) + 3600},
        {"headers": {"webhook-signature": ""}},
        {"headers": {"webhook-id": ""}},
        {"headers": {"webhook-timestamp": "yesterday"}},
        {"headers": {"webhook-signature": "v1,bm9wZQ=="}},
    ],
)
def test_refused(client, kwargs):
    response = post_signed(client, loops_payload("email.hardBounced"), **kwargs)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not WebhookEvent.objects.exists()
    assert not EmailSuppression.objects.exists()


def test_tolerance_setting(client, settings):
    settings.LOOPS_WEBHOOK_TOLERANCE = 7200
    assert (
        post_signed(
            client, loops_payload("email.delivered"), timestamp=int(time.time()) - 3600
        ).status_code
        == 200
    )


def test_garbage_body_is_400(client):
    for payload in (["not", "an", "event"], {"no": "eventName"}):
        assert post_signed(client, payload).status_code == 400


def test_missing_secret_is_400(client, settings):
    settings.LOOPS_WEBHOOK_SECRET = ""
    assert post_signed(client, loops_payload("email.delivered")).status_code == 400
