"""Email events and suppressions only move forward: a replay never records or suppresses twice.

Replays run through the admin action, the command and ``reprocess()`` (the
``replay`` fixture); late deliveries through the real endpoint.
"""

from __future__ import annotations

import pytest

from patchbay.models import EmailEvent, EmailSuppression
from patchbay.signals import email_event_received
from tests.loops.helpers import live_loops, loops_payload, post_signed
from tests.replay import replay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_loops")]
__all__ = ["live_loops", "replay"]


def deliver(client, event_name, message_id, **extra):
    response = post_signed(client, loops_payload(event_name, **extra), message_id=message_id)
    assert response.status_code == 200, response.content
    return message_id


def test_a_replayed_event_is_recorded_once_and_signalled_once(client, replay):
    received = []

    def on_event(sender, event, **kwargs):
        received.append(event.kind)

    email_event_received.connect(on_event)
    try:
        bounce = deliver(client, "email.hardBounced", "msg_bounce")
        assert replay(bounce) == "processed"
    finally:
        email_event_received.disconnect(on_event)
    assert EmailEvent.objects.count() == 1
    assert received == ["bounced"]


def test_replaying_a_bounce_after_the_suppression_was_lifted_keeps_it_lifted(client, replay):
    bounce = deliver(client, "email.hardBounced", "msg_bounce")
    EmailSuppression.objects.all().delete()  # "delete the row to email it again"
    replay(bounce)
    assert not EmailSuppression.objects.exists()


def test_a_late_event_is_kept_in_the_order_things_happened(client):
    deliver(client, "email.delivered", "msg_2", eventTime=2_000_000_100)
    deliver(client, "email.softBounced", "msg_1", eventTime=2_000_000_000)
    assert list(EmailEvent.objects.values_list("kind", flat=True)) == ["delivered", "deferred"]
