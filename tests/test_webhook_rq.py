"""Background processing on real rqworker processes (django-tasks-rq), PostgreSQL and Redis.

As tests/test_webhook_workers.py, with the jobs in Redis: two workers racing, and
a broker unreachable when the delivery is enqueued.
"""

from __future__ import annotations

import pytest

from patchbay.models import WebhookEvent
from patchbay.webhooks.background import resume
from tests.test_webhook_workers import deliver, handled, settled
from tests.workers import wait_until

pytestmark = [
    pytest.mark.worker,
    pytest.mark.urls("tests.webhook_views"),
    pytest.mark.django_db(transaction=True),
]

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


def test_two_racing_rqworkers_process_every_event_exactly_once(client, start_rqworker):
    event_ids = [f"evt_rq_{number}" for number in range(20)]
    for event_id in event_ids:
        deliver(client, event_id)
        deliver(client, event_id)
    resume(grace=0)
    start_rqworker()
    start_rqworker()

    wait_until(settled(*event_ids), "every event processed")

    for event in WebhookEvent.objects.filter(event_id__in=event_ids):
        assert (event.status, event.attempts) == ("processed", 1), event.event_id
        assert handled(event.event_id) == 1, event.event_id


def test_a_retry_is_scheduled_in_redis(client, start_rqworker):
    start_rqworker()
    deliver(client, "evt_rq_flaky", fail=2)

    wait_until(settled("evt_rq_flaky"), "the flaky event processed")

    event = WebhookEvent.objects.get(event_id="evt_rq_flaky")
    assert (event.status, event.attempts) == ("processed", 3)


def test_redis_unreachable_at_enqueue_the_delivery_is_stored_and_resumed(
    client, settings, start_rqworker, rq_url
):
    settings.RQ_QUEUES = {"default": {"URL": CLOSED_PORT_URL}}

    response = deliver(client, "evt_rq_down")

    assert response.json() == {"status": "received", "duplicate": False}
    assert WebhookEvent.objects.get(event_id="evt_rq_down").status == "received"

    settings.RQ_QUEUES = {"default": {"URL": rq_url}}
    start_rqworker()
    assert resume(grace=0) == 1
    wait_until(settled("evt_rq_down"), "the stored event processed")
    assert handled("evt_rq_down") == 1
