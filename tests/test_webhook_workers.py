"""Background processing end to end: a live server, real worker processes, both engines.

Every test runs twice (the ``engine`` fixture of tests/workers.py): on db_worker
processes of django-tasks-db (PostgreSQL) and on rqworker processes of
django-tasks-rq (Redis). Deliveries are signed HTTP requests to a gunicorn
server of two processes serving the test database, from several threads at
once; the handlers (tests/worker_app) run in the workers.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from patchbay.core.signing import hmac_sha256_hex
from patchbay.models import IntegrationLog, WebhookEvent
from patchbay.webhooks.background import resume
from tests.webhook_views import SECRET
from tests.workers import SERVER_PROCESSES, LiveServer, kill_hard, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

HOOK = "/hook/"


def deliver(server: LiveServer, event_id: str, **plan: Any) -> dict[str, Any]:
    """POST the event, signed, planned for tests/worker_app; its answer, a 200."""
    body = json.dumps({"id": event_id, "type": "thing.happened", **plan}).encode()
    response = requests.post(
        server.url + HOOK,
        data=body,
        headers={"Content-Type": "application/json", "X-Signature": hmac_sha256_hex(SECRET, body)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def deliver_at_once(server: LiveServer, event_ids: list[str]) -> list[tuple[str, str]]:
    """Deliver each of ``event_ids`` from several threads; each (event id, answered status)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = pool.map(lambda event_id: deliver(server, event_id), event_ids)
        return [
            (event_id, answer["status"])
            for event_id, answer in zip(event_ids, answers, strict=True)
        ]


def settled(*event_ids: str):
    done = ("processed", "dead")
    events = WebhookEvent.objects.filter(event_id__in=event_ids, status__in=done)
    return lambda: events.count() == len(event_ids)


def handled(event_id: str) -> int:
    return IntegrationLog.objects.filter(provider="worker-test", operation=event_id).count()


def test_racing_deliveries_and_workers_process_every_event_exactly_once(engine):
    server = engine.start_server()
    engine.start_worker()
    engine.start_worker()
    event_ids = [f"evt_race_{number}" for number in range(20)]
    redeliveries = 3

    # An event's deliveries are posted side by side, so they race each other through the
    # server's processes: into the store, and each enqueues a job while it is not done.
    answers = deliver_at_once(server, [e for e in event_ids for _ in range(redeliveries)])
    resume(grace=0)  # and one job more for each event still waiting
    wait_until(settled(*event_ids), "every event processed")

    for event_id in event_ids:
        statuses = sorted(status for answered, status in answers if answered == event_id)
        assert statuses == ["duplicate"] * (redeliveries - 1) + ["received"], event_id
    for event in WebhookEvent.objects.filter(event_id__in=event_ids):
        assert (event.status, event.attempts) == ("processed", 1), event.event_id
        assert handled(event.event_id) == 1, event.event_id
    assert len(server.answering_processes("POST", HOOK)) == SERVER_PROCESSES


def test_a_handler_failing_twice_then_succeeding_ends_processed_after_3_attempts(engine):
    server = engine.start_server()
    engine.start_worker()
    engine.start_worker()

    deliver(server, "evt_flaky", fail=2)
    wait_until(settled("evt_flaky"), "the flaky event processed")

    event = WebhookEvent.objects.get(event_id="evt_flaky")
    assert (event.status, event.attempts, event.error) == ("processed", 3, "")
    assert handled("evt_flaky") == 1


def test_a_handler_always_failing_ends_dead_after_the_configured_attempts(engine):
    server = engine.start_server()
    engine.start_worker()

    deliver(server, "evt_doomed", fail=100)
    wait_until(settled("evt_doomed"), "the doomed event dead")

    event = WebhookEvent.objects.get(event_id="evt_doomed")
    assert (event.status, event.attempts) == ("dead", 3)  # PATCHBAY_WEBHOOK_MAX_ATTEMPTS
    assert event.error == "RuntimeError: planned failure 3"
    assert handled("evt_doomed") == 0
    assert resume(grace=0) == 0  # dead: no retry runs it again


def test_a_worker_killed_mid_run_is_resumed_and_the_event_processed_once(engine):
    server = engine.start_server()
    victim = engine.start_worker()
    deliver(server, "evt_killed", sleep_first=30)
    wait_until(
        lambda: WebhookEvent.objects.filter(
            event_id="evt_killed", claimed_until__isnull=False
        ).exists(),
        "the event claimed",
    )

    kill_hard(victim)  # with rqworker, its work horse too: the process running the job
    engine.start_worker()

    # The claim (PATCHBAY_WEBHOOK_CLAIM_SECONDS = 2 in the workers) expires; the resume
    # hands the event on.
    def resumed():
        resume(grace=0)
        return settled("evt_killed")()

    wait_until(resumed, "the killed worker's event processed")

    event = WebhookEvent.objects.get(event_id="evt_killed")
    assert (event.status, event.attempts) == ("processed", 2)
    assert handled("evt_killed") == 1


def test_the_broker_unreachable_at_enqueue_the_delivery_is_stored_and_resumed(engine):
    server = engine.start_server(broker_down=True)
    engine.start_worker()  # on the real broker, where the server could not enqueue

    answer = deliver(server, "evt_broker_down")

    assert answer == {"status": "received", "duplicate": False}
    assert "Could not enqueue" in server.log.read_text()
    event = WebhookEvent.objects.get(event_id="evt_broker_down")
    assert (event.status, event.attempts) == ("received", 0)

    assert resume(grace=0) == 1  # the broker is back (here, the test's own)
    wait_until(settled("evt_broker_down"), "the stored event processed")

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)
    assert handled("evt_broker_down") == 1
