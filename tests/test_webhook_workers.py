"""Background processing on real db_worker processes of django-tasks-db, on PostgreSQL.

Deliveries go through the endpoint (Django's test client, committing for real);
the handlers (tests/worker_app) run in worker processes these tests start and
stop, configured by tests/worker_settings.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from patchbay.core.signing import hmac_sha256_hex
from patchbay.models import IntegrationLog, WebhookEvent
from patchbay.webhooks.background import resume
from tests.webhook_views import SECRET

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 60

pytestmark = [
    pytest.mark.worker,
    pytest.mark.urls("tests.webhook_views"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def start_worker(settings, tmp_path):
    """Start a db_worker process; all are stopped (killed if need be) at the end."""
    if connection.vendor != "postgresql":
        pytest.skip("db_worker processes share the test database: needs PostgreSQL")
    pytest.importorskip("django_tasks_db")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.PATCHBAY_WEBHOOK_PROCESSING = "background"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "PATCHBAY_WORKER_DB_NAME": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
    }
    processes = []

    def start():
        with (tmp_path / f"worker{len(processes)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "django", "db_worker", "--interval", "0.1"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        return process

    yield start
    for log in sorted(tmp_path.glob("worker*.log")):  # shown when a test fails
        print(log.name, log.read_text(errors="replace")[-3000:])
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {WAIT_SECONDS} s: {what}")


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
