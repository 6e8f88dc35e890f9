"""PATCHBAY_WEBHOOK_PROCESSING = "background", on the immediate Tasks backend."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patchbay.core.signing import hmac_sha256_hex
from patchbay.exceptions import MalformedEvent
from patchbay.models import WebhookEvent
from patchbay.webhooks import background, receiver
from patchbay.webhooks.background import SKIPPED, process_event, resume, retry_delay
from patchbay.webhooks.registry import disconnect
from tests.conftest import run_concurrently
from tests.webhook_views import SECRET

pytestmark = [pytest.mark.urls("tests.webhook_views")]

EVENT = {"id": "evt_bg", "type": "thing.happened", "value": 1}


def deliver(client, payload=EVENT):
    body = json.dumps(payload).encode()
    return client.post(
        "/hook/",
        data=body,
        content_type="application/json",
        headers={"X-Signature": hmac_sha256_hex(SECRET, body)},
    )


@pytest.fixture(autouse=True)
def _background(settings):
    settings.PATCHBAY_WEBHOOK_PROCESSING = "background"
    settings.PATCHBAY_WEBHOOK_MAX_ATTEMPTS = 3


@pytest.fixture
def handled():
    """The handler's calls; set ``handled.failures`` to fail that many runs first."""

    class Calls(list):
        handler = None

    seen = Calls()

    def handler(event):
        seen.append(event.event_id)
        if len(seen) <= handler.failures:
            raise RuntimeError(f"run {len(seen)} failed")

    handler.failures = 0
    receiver("pipeline", "thing.happened")(handler)
    seen.handler = handler
    yield seen
    disconnect("pipeline", "thing.happened", handler)


def make_due(event):
    WebhookEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db
class TestStoreAndAnswer:
    def test_the_request_stores_answers_and_runs_the_handlers_after_commit(
        self, client, handled, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            response = deliver(client)
            assert handled == []  # nothing ran in the request's transaction
            assert WebhookEvent.objects.get().status == "received"

        assert response.status_code == 200
        assert response.json() == {"status": "received", "duplicate": False}
        assert len(callbacks) == 1
        callbacks[0]()  # the commit: the immediate backend runs the task here
        event = WebhookEvent.objects.get()
        assert (event.status, event.attempts, event.claimed_until) == ("processed", 1, None)
        assert handled == ["evt_bg"]

    def test_a_redelivery_of_a_processed_event_is_a_duplicate_that_runs_nothing(
        self, client, handled, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = deliver(client)

        assert response.json() == {"status": "duplicate", "duplicate": True}
        assert callbacks == []
        assert handled == ["evt_bg"]

    def test_a_delivery_is_stored_with_one_statement_as_inline_ones_are(
        self, client, handled, django_capture_on_commit_callbacks
    ):
        if not connection.features.supports_update_conflicts_with_target:
            pytest.skip("this database has no INSERT ... ON CONFLICT")
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks():
            deliver(client)

        on_events = [query["sql"] for query in queries if "patchbay_webhookevent" in query["sql"]]
        assert len(on_events) == 1, on_events  # no SELECT first, no savepoint around it
        assert "ON CONFLICT" in on_events[0]
        event = WebhookEvent.objects.get()
        assert (event.status, event.attempts) == ("received", 0)  # the run counts its own

    def test_a_redelivery_of_an_event_not_yet_run_is_a_duplicate_that_enqueues_again(
        self, client, handled, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as first:
            deliver(client)
        with django_capture_on_commit_callbacks() as again:
            response = deliver(client)

        assert response.json() == {"status": "duplicate", "duplicate": True}
        assert (len(first), len(again)) == (1, 1)
        again[0]()
        first[0]()  # the first job finds the event done
        assert handled == ["evt_bg"]
        assert WebhookEvent.objects.get().attempts == 1

    def test_a_rollback_enqueues_nothing(self, handled, django_capture_on_commit_callbacks):
        from django.db import transaction

        from patchbay.webhooks import VerifiedDelivery

        delivery = VerifiedDelivery(event_id="evt_rb", event_type="thing.happened", payload={})
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            background.store_delivery("pipeline", delivery)
            transaction.set_rollback(True)
        assert callbacks == []
        assert not WebhookEvent.objects.exists()

    def test_a_broker_down_at_enqueue_still_stores_and_answers_then_resume_runs_it(
        self, client, handled, monkeypatch, django_capture_on_commit_callbacks
    ):
        class Down:
            def enqueue(self, *args, **kwargs):
                raise ConnectionError("Error 111 connecting to 127.0.0.1:1")

        monkeypatch.setattr(background.process_webhook_event, "_framework_task", Down())
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(client)

        assert response.status_code == 200
        assert WebhookEvent.objects.get().status == "received"
        assert handled == []

        monkeypatch.undo()
        assert resume(grace=0) == 1
        assert WebhookEvent.objects.get().status == "processed"
        assert handled == ["evt_bg"]


@pytest.mark.django_db
class TestRetries:
    def stored(self, client, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client)
        return WebhookEvent.objects.get()

    def test_a_handler_failing_twice_then_succeeding_ends_processed_after_3_attempts(
        self, client, handled, django_capture_on_commit_callbacks
    ):
        handled.handler.failures = 2
        event = self.stored(client, django_capture_on_commit_callbacks)
        assert (event.status, event.attempts) == ("failed", 1)
        assert event.error == "RuntimeError: run 1 failed"
        assert event.next_attempt_at > timezone.now()

        assert process_event(event.pk) == SKIPPED  # not due yet
        assert resume(grace=0) == 0
        make_due(event)
        assert process_event(event.pk) == "failed"
        make_due(event)
        assert resume(grace=0) == 1

        event.refresh_from_db()
        assert (event.status, event.attempts, event.error) == ("processed", 3, "")
        assert event.next_attempt_at is None
        assert len(handled) == 3

    def test_a_handler_always_failing_ends_dead_after_the_configured_attempts(
        self, client, handled, django_capture_on_commit_callbacks
    ):
        handled.handler.failures = 100
        event = self.stored(client, django_capture_on_commit_callbacks)
        for _ in range(2):
            make_due(event)
            process_event(event.pk)

        event.refresh_from_db()
        assert (event.status, event.attempts, event.next_attempt_at) == ("dead", 3, None)
        assert event.error == "RuntimeError: run 3 failed"
        make_due(event)
        assert process_event(event.pk) == SKIPPED
        assert resume(grace=0) == 0

    def test_a_dead_event_is_reprocessed_by_the_command(
        self, client, handled, django_capture_on_commit_callbacks
    ):
        handled.handler.failures = 3
        event = self.stored(client, django_capture_on_commit_callbacks)
        for _ in range(2):
            make_due(event)
            process_event(event.pk)
        assert WebhookEvent.objects.get().status == "dead"

        call_command("patchbay_reprocess_webhooks", "--status", "dead")

        event.refresh_from_db()
        assert (event.status, event.attempts) == ("processed", 4)

    def test_a_malformed_event_is_never_retried(self, client, django_capture_on_commit_callbacks):
        def refuse(event):
            raise MalformedEvent("no customer")

        receiver("pipeline", "thing.happened")(refuse)
        try:
            event = self.stored(client, django_capture_on_commit_callbacks)
        finally:
            disconnect("pipeline", "thing.happened", refuse)
        assert (event.status, event.next_attempt_at) == ("malformed", None)
        assert resume(grace=0) == 0

    def test_the_retry_delay_doubles_with_jitter(self, settings):
        settings.PATCHBAY_WEBHOOK_RETRY_DELAY = 10.0
        for attempts, full in [(1, 10.0), (2, 20.0), (3, 40.0)]:
            delays = {retry_delay(attempts) for _ in range(20)}
            assert all(full / 2 <= delay <= full for delay in delays)
            assert len(delays) > 1
        assert retry_delay(100) <= background.MAX_RETRY_DELAY


@pytest.mark.django_db
class TestClaims:
    def test_a_live_claim_is_not_taken_expired_one_is(self, handled):
        event = WebhookEvent.objects.create(
            provider="pipeline",
            event_id="evt_claimed",
            event_type="thing.happened",
            claimed_until=timezone.now() + timedelta(minutes=5),
            attempts=1,
        )
        assert process_event(event.pk) == SKIPPED
        assert resume(grace=0) == 0

        WebhookEvent.objects.filter(pk=event.pk).update(
            claimed_until=timezone.now() - timedelta(seconds=1),
            updated_at=timezone.now() - timedelta(minutes=10),
        )
        assert resume(grace=60) == 1  # the killed worker's event, handed on
        event.refresh_from_db()
        assert (event.status, event.attempts) == ("processed", 2)
        assert handled == ["evt_claimed"]

    def test_resume_leaves_a_just_stored_event_to_its_own_job(self, handled):
        WebhookEvent.objects.create(provider="pipeline", event_id="evt_new", event_type="x")
        assert resume() == 0

    def test_the_resume_command(self, handled, capsys):
        WebhookEvent.objects.create(
            provider="pipeline", event_id="evt_cmd", event_type="thing.happened"
        )
        call_command("patchbay_resume_webhooks", "--grace", "0")
        assert "Enqueued 1 webhook event." in capsys.readouterr().out
        assert WebhookEvent.objects.get().status == "processed"


@pytest.mark.django_db(transaction=True)
def test_racing_runs_of_one_event_run_its_handlers_once(handled):
    if connection.vendor != "postgresql":
        pytest.skip("threads on one in-memory SQLite database lock its tables: needs PostgreSQL")
    event = WebhookEvent.objects.create(
        provider="pipeline", event_id="evt_race", event_type="thing.happened"
    )

    outcomes = run_concurrently(lambda: process_event(event.pk), 4)

    assert sorted(outcomes) == ["processed", SKIPPED, SKIPPED, SKIPPED]
    assert handled == ["evt_race"]
    event.refresh_from_db()
    assert event.attempts == 1


@pytest.mark.django_db
def test_patchbay_status_shows_the_waiting_events_per_provider(capsys):
    old = timezone.now() - timedelta(hours=2)
    for event_id, status in [("a", "received"), ("b", "failed"), ("c", "dead"), ("d", "processed")]:
        WebhookEvent.objects.create(provider="pipeline", event_id=event_id, status=status)
    WebhookEvent.objects.filter(event_id="b").update(received_at=old)

    call_command("patchbay_status", "--json")
    [row] = json.loads(capsys.readouterr().out)["webhooks"]
    call_command("patchbay_status")
    text = capsys.readouterr().out

    assert row == {
        "provider": "pipeline",
        "queued": 1,
        "retrying": 1,
        "dead": 1,
        "oldest_unprocessed": str(WebhookEvent.objects.get(event_id="b").received_at),
    }
    assert "pipeline: 1 queued, 1 retrying, 1 dead, oldest received " in text


@pytest.mark.django_db
def test_the_admin_shows_attempts_next_retry_and_last_error(admin_client):
    event = WebhookEvent.objects.create(
        provider="pipeline",
        event_id="evt_admin",
        status="failed",
        attempts=2,
        error="RuntimeError: the handler failed",
        next_attempt_at=timezone.now() + timedelta(minutes=1),
    )

    listing = admin_client.get("/admin/patchbay/webhookevent/").content.decode()
    page = admin_client.get(f"/admin/patchbay/webhookevent/{event.pk}/change/").content.decode()

    assert "Next attempt" in listing
    assert "RuntimeError: the handler failed" in page
    assert "Last error" in page
