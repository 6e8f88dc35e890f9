"""Simulated status callbacks over time: PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.checks import run_checks

from patchbay.models import SMS
from patchbay.signals import sms_status_changed
from patchbay.twilio import shortcuts, simulation
from tests.twilio.helpers import TO


@pytest.fixture(autouse=True)
def _simulate(settings):
    settings.PATCHBAY_SIMULATE = True


@pytest.fixture
def moves():
    """The statuses the message moves to, with when, as the callbacks' thread applies them.

    Heard through ``sms_status_changed`` rather than by polling the table: the
    test database is an in-memory SQLite, whose table locks make a reader and
    the thread's writer fail each other.
    """
    seen: list[tuple[str, float]] = []
    delivered = threading.Event()

    def receiver(sender, sms, status, **kwargs):
        seen.append((status, time.monotonic()))
        if status == "delivered":
            delivered.set()

    sms_status_changed.connect(receiver, weak=False)
    yield seen, delivered
    sms_status_changed.disconnect(receiver)
    finish_callbacks()


def finish_callbacks() -> None:
    """Wait for the callbacks' threads: none may write after its test's database is flushed."""
    for thread in threading.enumerate():
        if thread.name.startswith("patchbay-sms-"):
            thread.join(timeout=5)


@pytest.mark.django_db(transaction=True)  # the thread's connection sees committed rows only
def test_delays_are_honoured_without_blocking_the_send(settings, moves):
    seen, delivered = moves
    # The first delay is long enough that a send slowed down by a busy machine still
    # finishes well before it: the send must not wait for the callbacks.
    settings.PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS = (1.0, 0.3, 0.3)
    started = time.monotonic()
    result = shortcuts.send_sms(TO, "hi")
    assert time.monotonic() - started < 1.0  # the send did not wait for the callbacks
    assert result["success"] is True
    assert SMS.objects.get(pk=result["sms_id"]).status == "queued"

    assert delivered.wait(timeout=5)
    # The row starts queued (the send's answer), so the first callback moves nothing.
    assert [status for status, _at in seen] == ["sent", "delivered"]
    (_, sent_at), (_, delivered_at) = seen
    assert sent_at - started >= 1.3  # 1.0 before queued, 0.3 before sent
    assert delivered_at - sent_at >= 0.29
    finish_callbacks()
    assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"


@pytest.mark.django_db(transaction=True)
def test_a_single_spacing_spaces_every_callback(settings, moves):
    seen, delivered = moves
    settings.PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS = 0.2
    assert simulation.callback_delays() == (0.2, 0.2, 0.2)
    started = time.monotonic()
    shortcuts.send_sms(TO, "hi")

    assert delivered.wait(timeout=5)
    assert seen[-1][1] - started >= 0.6


@pytest.mark.django_db
@pytest.mark.parametrize("zero", [0, 0.0, (0, 0, 0), None])
def test_zero_delivers_within_the_send(settings, zero):
    settings.PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS = zero
    result = shortcuts.send_sms(TO, "hi")
    assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"


@pytest.mark.django_db
def test_a_bad_value_is_reported_and_read_as_at_once(settings):
    settings.PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS = (1, 2)
    [error] = [message for message in run_checks() if message.id == "patchbay.E039"]
    assert "PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS" in error.msg
    result = shortcuts.send_sms(TO, "hi")  # still delivers: never raises, never hangs
    assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"


@pytest.mark.parametrize("value", [-1, "soon", (1, 2), (1, -2, 3), [1, 2, 3, 4], True])
def test_values_the_check_refuses(settings, value):
    settings.PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS = value
    assert [m.id for m in run_checks() if m.id == "patchbay.E039"] == ["patchbay.E039"]


@pytest.mark.parametrize("value", [0, 1.5, "0.5", (1.0, 2.0, 3.0), [0, 0, 1]])
def test_values_the_check_accepts(settings, value):
    settings.PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS = value
    assert not [m for m in run_checks() if m.id == "patchbay.E039"]
