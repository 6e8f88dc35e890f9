"""Background processing on real db_worker processes of django-tasks-db, on PostgreSQL.

Deliveries go through the endpoint (Django's test client, committing for real);
the handlers (tests/worker_app) run in worker processes started and stopped by
tests/workers.py.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from patchbay.core.signing import hmac_sha256_hex
from patchbay.models import IntegrationLog, WebhookEvent
from patchbay.webhooks.background import resume
from tests.webhook_views import SECRET
from tests.workers import wait_until

pytestmark = [
    pytest.mark.worker,
    pytest.mark.urls("tests.webhook_views"),
    pytest.mark.django_db(transaction=True),
]


def deliver(client, event_id, **plan):
    payload = {"id": event_id, "type": "thing.happened", **plan}
    body = json.dumps(payload).encode()
    response = client.post(
        "/hook/",
        data=body,
        content_type="application/json",
        headers={"X-Signature": hmac_sha256_hex(SECRET, body)},
    )
    assert response.status_code == 200, response.content
    return response


def settled(*event_ids):
    done = ("processed", "dead")
    events = WebhookEvent.objects.filter(event_id__in=event_ids, status__in=done)
    return lambda: events.count() == len(event_ids)


def handled(event_id):
    return IntegrationLog.objects.filter(provider="worker-test", operation=event_id).count()


def test_two_racing_workers_process_every_event_exactly_once(client, start_worker):
    event_ids = [f"evt_race_{number}" for number in range(20)]
    for event_id in event_ids:
        deliver(client, event_id)
        deliver(client, event_id)  # a redelivery while not done: a second job
    resume(grace=0)  # and a third job for each
    start_worker()
    start_worker()

    wait_until(settled(*event_ids), "every event processed")

    for event in WebhookEvent.objects.filter(event_id__in=event_ids):
        assert (event.status, event.attempts) == ("processed", 1), event.event_id
        assert handled(event.event_id) == 1, event.event_id


def test_a_handler_failing_twice_then_succeeding_ends_processed_after_3_attempts(
    client, start_worker
):
    start_worker()
    start_worker()
    deliver(client, "evt_flaky", fail=2)

    wait_until(settled("evt_flaky"), "the flaky event processed")

    event = WebhookEvent.objects.get(event_id="evt_flaky")
    assert (event.status, event.attempts, event.error) == ("processed", 3, "")
    assert handled("evt_flaky") == 1


def test_a_handler_always_failing_ends_dead_after_the_configured_attempts(client, start_worker):
    start_worker()
    deliver(client, "evt_doomed", fail=100)

    wait_until(settled("evt_doomed"), "the doomed event dead")

    event = WebhookEvent.objects.get(event_id="evt_doomed")
    assert (event.status, event.attempts) == ("dead", 3)  # PATCHBAY_WEBHOOK_MAX_ATTEMPTS
    assert event.error == "RuntimeError: planned failure 3"
    assert handled("evt_doomed") == 0


def test_a_worker_killed_mid_run_is_resumed_and_the_event_processed_once(client, start_worker):
    victim = start_worker()
    deliver(client, "evt_killed", sleep_first=30)
    wait_until(
        lambda: WebhookEvent.objects.filter(
            event_id="evt_killed", claimed_until__isnull=False
        ).exists(),
        "the event claimed",
    )
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    start_worker()

    # The claim (PATCHBAY_WEBHOOK_CLAIM_SECONDS = 2 in the workers) expires; the resume
    # hands the event on.
    def resumed():
        resume(grace=0)
        return settled("evt_killed")()

    wait_until(resumed, "the killed worker's event processed")

    event = WebhookEvent.objects.get(event_id="evt_killed")
    assert (event.status, event.attempts) == ("processed", 2)
    assert handled("evt_killed") == 1
