"""SMS state only moves forward: late callbacks and replays never undo newer state.

Replays run through the admin action, the command and ``reprocess()`` (the
``replay`` fixture); late deliveries through the real endpoints.
"""

from __future__ import annotations

import pytest

from patchbay.models import SMS, PhoneOptOut
from patchbay.signals import sms_status_changed
from patchbay.twilio.tracking import apply_status
from patchbay.webhooks import receiver
from patchbay.webhooks.registry import disconnect
from tests.replay import replay
from tests.twilio.helpers import FROM, INBOUND_URL, STATUS_URL, TO, live_twilio, post_signed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_twilio")]
__all__ = ["live_twilio", "replay"]
SID = "SM" + "3" * 32


@pytest.fixture
def sms():
    return SMS.objects.create(
        to_number=TO, from_number=FROM, body="hi", status="queued", external_id=SID
    )


def callback(client, status, **extra):
    params = {"MessageSid": SID, "MessageStatus": status, "To": TO, **extra}
    response = post_signed(client, STATUS_URL, params)
    assert response.status_code == 200, response.content
    return f"{SID}:{status}"


def inbound(client, body, sid):
    params = {"MessageSid": sid, "From": TO, "To": FROM, "Body": body}
    response = post_signed(client, INBOUND_URL, params)
    assert response.status_code == 200, response.content
    return sid


class TestStatuses:
    def test_replaying_an_earlier_status_changes_nothing(self, client, sms, replay):
        sent = callback(client, "sent")
        callback(client, "delivered")
        delivered_at = SMS.objects.get().delivered_at
        changes = []

        def on_change(sender, sms, status, **kwargs):
            changes.append(status)

        sms_status_changed.connect(on_change)
        try:
            replay(sent)
        finally:
            sms_status_changed.disconnect(on_change)
        stored = SMS.objects.get()
        assert (stored.status, stored.delivered_at) == ("delivered", delivered_at)
        assert changes == []

    def test_replaying_a_failure_after_delivery_changes_nothing(self, client, sms, replay):
        failed = callback(client, "failed", ErrorCode="30003")
        SMS.objects.update(status="sent", error_code="")  # as if it came first
        callback(client, "delivered")
        replay(failed)
        stored = SMS.objects.get()
        assert (stored.status, stored.error_code) == ("delivered", "")

    def test_a_late_callback_changes_nothing(self, client, sms):
        callback(client, "delivered")
        callback(client, "sent")
        callback(client, "queued")
        assert SMS.objects.get().status == "delivered"


class TestKeywords:
    def test_replaying_stop_after_start_keeps_the_number_opted_in(self, client, replay):
        stop = inbound(client, "STOP", "SM" + "6" * 32)
        inbound(client, "START", "SM" + "7" * 32)
        replay(stop)
        assert not PhoneOptOut.objects.exists()

    def test_replaying_start_after_stop_keeps_the_number_opted_out(self, client, replay):
        start = inbound(client, "START", "SM" + "6" * 32)
        inbound(client, "STOP", "SM" + "7" * 32)
        replay(start)
        assert PhoneOptOut.objects.filter(phone_number=TO).exists()

    def test_replaying_stop_after_the_opt_out_was_removed_keeps_it_removed(self, client, replay):
        stop = inbound(client, "STOP", "SM" + "6" * 32)
        PhoneOptOut.objects.all().delete()  # the number opted in another way
        replay(stop)
        assert not PhoneOptOut.objects.exists()

    def test_the_latest_keyword_is_what_counts_after_a_failed_delivery(self, client):
        """STOP fails at first, START follows, STOP is redelivered: START came last."""
        failing = {"on": True}

        def flaky(event):
            if failing["on"] and event.payload.get("Body") == "STOP":
                raise RuntimeError("down")

        receiver("twilio", "message.received")(flaky)
        params = {"MessageSid": "SM" + "6" * 32, "From": TO, "To": FROM, "Body": "STOP"}
        try:
            assert post_signed(client, INBOUND_URL, params).status_code == 500
            inbound(client, "START", "SM" + "7" * 32)
            failing["on"] = False
            assert post_signed(client, INBOUND_URL, params).status_code == 200
        finally:
            disconnect("twilio", "message.received", flaky)
        assert SMS.objects.count() == 2
        assert not PhoneOptOut.objects.exists()


@pytest.mark.django_db
def test_a_move_nobody_listens_to_costs_one_query(django_assert_num_queries):
    SMS.objects.create(to_number="+14155552671", status="queued", external_id="SM" + "7" * 32)
    with django_assert_num_queries(1):  # the conditional UPDATE; no row to read for a signal
        assert apply_status("SM" + "7" * 32, "sent")
    assert SMS.objects.get().status == "sent"


@pytest.mark.django_db
def test_a_listener_still_hears_the_moved_row():
    SMS.objects.create(to_number="+14155552671", status="queued", external_id="SM" + "8" * 32)
    heard = []

    def on_change(sender, sms, status, **kwargs):
        heard.append((sms.pk, sms.status, status))

    sms_status_changed.connect(on_change)
    try:
        assert apply_status("SM" + "8" * 32, "sent")
    finally:
        sms_status_changed.disconnect(on_change)
    assert heard == [(SMS.objects.get().pk, "sent", "sent")]
