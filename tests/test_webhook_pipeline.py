from __future__ import annotations

import json
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from patchbay.core.signing import hmac_sha256_hex
from patchbay.models import IntegrationLog, WebhookEvent
from patchbay.signals import webhook_received
from patchbay.webhooks import VerifiedDelivery, processing, receiver
from patchbay.webhooks.processing import process_delivery, reprocess
from patchbay.webhooks.registry import disconnect
from patchbay.webhooks.statements import EventStatements
from tests.conftest import inserts_refused, run_concurrently
from tests.webhook_views import SECRET

pytestmark = [pytest.mark.urls("tests.webhook_views")]


def deliver(client, payload=None, *, secret=SECRET, body=None, **headers):
    body = body if body is not None else json.dumps(payload).encode()
    signature = hmac_sha256_hex(secret, body)
    return client.post(
        "/hook/",
        data=body,
        content_type="application/json",
        headers={"X-Signature": signature, **headers},
    )


EVENT = {"id": "evt_1", "type": "thing.happened", "value": 1}


@pytest.fixture(params=["upsert", "portable"])
def storage(request, monkeypatch):
    """Both ways of storing an event: one upsert, or (other backends) a locked get_or_create."""
    monkeypatch.setattr(EventStatements, "_built", {})
    if request.param == "portable":
        monkeypatch.setattr(connection.features, "supports_update_conflicts_with_target", False)
    return request.param


def event_queries(queries):
    return [q["sql"] for q in queries if "patchbay_webhookevent" in q["sql"]]


@pytest.fixture
def calls():
    seen = []

    def handler(event):
        seen.append(event.event_id)

    receiver("pipeline", "thing.happened")(handler)
    yield seen
    disconnect("pipeline", "thing.happened", handler)


@pytest.mark.django_db
@pytest.mark.usefixtures("storage")
class TestPipeline:
    def test_processes_and_stores_once(self, client, calls):
        response = deliver(client, EVENT)
        assert response.status_code == 200
        assert response.json() == {"status": "processed", "duplicate": False}
        event = WebhookEvent.objects.get()
        assert (event.provider, event.event_id, event.event_type) == (
            "pipeline",
            "evt_1",
            "thing.happened",
        )
        assert (event.status, event.attempts, event.verified) == ("processed", 1, True)
        assert event.payload == EVENT
        assert calls == ["evt_1"]

    def test_duplicate_delivery_runs_nothing(self, client, calls):
        deliver(client, EVENT)
        response = deliver(client, EVENT)
        assert response.status_code == 200
        assert response.json()["duplicate"] is True
        assert calls == ["evt_1"]
        assert WebhookEvent.objects.get().attempts == 1

    def test_no_handler_is_ignored(self, client):
        response = deliver(client, {"id": "evt_2", "type": "nobody.cares"})
        assert response.json()["status"] == "ignored"
        assert WebhookEvent.objects.get().status == "ignored"

    def test_signal_receivers_get_the_event(self, client):
        received = []

        def on_event(sender, event, **kwargs):
            received.append((sender, event.event_type))

        webhook_received.connect(on_event, sender="pipeline")
        try:
            response = deliver(client, {"id": "evt_3", "type": "other.type"})
        finally:
            webhook_received.disconnect(on_event, sender="pipeline")
        assert response.json()["status"] == "processed"
        assert received == [("pipeline", "other.type")]

    def test_handler_failure_answers_500_then_redelivery_processes(self, client):
        attempts = []

        def flaky(event):
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("database was busy")

        receiver("pipeline", "flaky.event")(flaky)
        try:
            payload = {"id": "evt_4", "type": "flaky.event"}
            first = deliver(client, payload)
            assert first.status_code == 500
            assert "error" in first.json()
            event = WebhookEvent.objects.get()
            assert (event.status, event.attempts, event.processed_at) == ("failed", 1, None)
            assert "database was busy" in event.error
            second = deliver(client, {**payload, "value": 2})
            assert second.status_code == 200
            event.refresh_from_db()
            assert (event.status, event.attempts, event.error) == ("processed", 2, "")
            assert event.payload == {**payload, "value": 2}  # the redelivered payload
            assert event.processed_at is not None
        finally:
            disconnect("pipeline", "flaky.event", flaky)

    def test_failing_handler_writes_are_rolled_back(self, client):
        def writes_then_fails(event):
            IntegrationLog.objects.create(provider="side-effect", operation="x", success=True)
            raise RuntimeError("boom")

        receiver("pipeline", "rollback.event")(writes_then_fails)
        try:
            deliver(client, {"id": "evt_5", "type": "rollback.event"})
        finally:
            disconnect("pipeline", "rollback.event", writes_then_fails)
        assert not IntegrationLog.objects.filter(provider="side-effect").exists()
        assert WebhookEvent.objects.get().status == "failed"

    def test_reprocess_runs_handlers_again(self, client, calls):
        deliver(client, EVENT)
        assert reprocess(WebhookEvent.objects.get()) == "processed"
        assert calls == ["evt_1", "evt_1"]
        assert WebhookEvent.objects.get().attempts == 2

    def test_every_delivery_is_recorded(self, client, calls):
        deliver(client, EVENT)
        deliver(client, EVENT, secret="wrong")
        logs = IntegrationLog.objects.filter(provider="pipeline", direction="inbound").order_by(
            "id"
        )
        assert [(log.success, log.status_code) for log in logs] == [(True, 200), (False, 400)]
        assert logs[0].request_summary == {
            "event_id": "evt_1",
            "event_type": "thing.happened",
            "outcome": "processed",
        }


@pytest.mark.django_db
class TestRefusals:
    @pytest.mark.parametrize(
        ("kwargs", "status"),
        [
            ({"secret": "wrong"}, 400),
            ({"X-Signature": ""}, 400),
            ({"X-Signature": "sha256=nothex"}, 400),
        ],
    )
    def test_bad_signatures(self, client, kwargs, status):
        response = deliver(client, EVENT, **kwargs)
        assert response.status_code == status
        assert response.json()["error"]
        assert not WebhookEvent.objects.exists()

    @pytest.mark.parametrize("body", [b"not json", b"{}", b"[]", b"\xff\xfe", b'{"id": 1}'])
    def test_garbage_after_a_valid_signature_is_400_not_500(self, client, body):
        response = deliver(client, body=body)
        assert response.status_code == 400
        assert "error" in response.json()

    def test_oversize_body_is_413(self, client, settings):
        settings.PATCHBAY_WEBHOOK_MAX_BODY_SIZE = 100
        response = deliver(client, {**EVENT, "padding": "x" * 200})
        assert response.status_code == 413
        assert response.json()["error"]
        assert IntegrationLog.objects.get().error_code == "body_too_large"

    def test_get_is_405_json(self, client):
        response = client.get("/hook/")
        assert response.status_code == 405
        assert response.json()["error"]

    def test_csrf_exempt(self, calls):
        response = deliver(Client(enforce_csrf_checks=True), EVENT)
        assert response.status_code == 200


def deliver_concurrently(event_id, times=4):
    """Deliver one event from ``times`` threads at once; the answers and the handler runs."""
    calls = []

    def slow_handler(event):
        calls.append(event.event_id)
        time.sleep(0.5)  # the other deliveries arrive while the first is processing

    receiver("pipeline", "slow.event")(slow_handler)
    payload = {"id": event_id, "type": "slow.event"}
    try:
        responses = run_concurrently(lambda: deliver(Client(), payload), times)
    finally:
        disconnect("pipeline", "slow.event", slow_handler)
    return responses, calls


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_are_processed_once(postgres_only):
    responses, calls = deliver_concurrently("evt_concurrent")
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200]
    assert calls == ["evt_concurrent"]
    assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True, True]
    assert WebhookEvent.objects.get().attempts == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redeliveries_of_a_failed_event_run_it_once(postgres_only):
    WebhookEvent.objects.create(
        provider="pipeline", event_id="evt_failed", event_type="slow.event", status="failed",
        attempts=1, error="RuntimeError: busy",
    )  # fmt: skip
    responses, calls = deliver_concurrently("evt_failed")
    assert calls == ["evt_failed"]
    assert sorted(r.json()["status"] for r in responses) == ["duplicate"] * 3 + ["processed"]
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts, stored.error) == ("processed", 2, "")


@pytest.mark.django_db(transaction=True)
def test_the_log_row_commits_with_the_event():
    # One transaction (one commit, one flush to disk) per delivery: when a handler's
    # on_commit work runs, the delivery's IntegrationLog row is already stored.
    seen = []

    def handler(event):
        transaction.on_commit(
            lambda: seen.append(IntegrationLog.objects.filter(provider="pipeline").count())
        )

    receiver("pipeline", "thing.happened")(handler)
    try:
        assert deliver(Client(), EVENT).status_code == 200
    finally:
        disconnect("pipeline", "thing.happened", handler)
    assert seen == [1]


@pytest.mark.django_db(transaction=True)
def test_a_failing_log_insert_keeps_the_event(calls):
    with inserts_refused("patchbay_integrationlog"):  # the database refuses the row
        assert deliver(Client(), EVENT).json() == {"status": "processed", "duplicate": False}
    assert WebhookEvent.objects.get().status == "processed"
    assert not IntegrationLog.objects.exists()
    assert calls == ["evt_1"]


@pytest.mark.django_db
class TestStorage:
    """What one delivery costs in statements, and the races the upsert settles."""

    def test_a_first_delivery_is_stored_in_one_statement(self, client, calls):
        with CaptureQueriesContext(connection) as queries:
            assert deliver(client, EVENT).json() == {"status": "processed", "duplicate": False}
        (stored,) = event_queries(queries)
        assert stored.startswith("INSERT")
        assert "ON CONFLICT" in stored
        assert "DO NOTHING" in stored

    def test_a_duplicate_only_reads_and_locks_nothing(self, client, calls):
        deliver(client, EVENT)
        with CaptureQueriesContext(connection) as queries:
            assert deliver(client, EVENT).json()["duplicate"] is True
        inserted, found = event_queries(queries)
        assert "DO NOTHING" in inserted
        assert found.startswith("SELECT")
        assert "FOR UPDATE" not in found

    def test_a_redelivery_of_a_failed_event_takes_it_over_in_one_statement(self, client):
        outcomes = iter([RuntimeError("busy"), None])

        def flaky(event):
            if error := next(outcomes):
                raise error

        receiver("pipeline", "flaky.event")(flaky)
        try:
            deliver(client, {"id": "evt_7", "type": "flaky.event"})
            with CaptureQueriesContext(connection) as queries:
                assert deliver(client, {"id": "evt_7", "type": "flaky.event"}).status_code == 200
        finally:
            disconnect("pipeline", "flaky.event", flaky)
        _, _, takeover = event_queries(queries)
        assert "DO UPDATE" in takeover
        assert [q for q in event_queries(queries) if q.startswith("UPDATE")] == []

    def test_other_backends_lock_the_row_instead(self, client, calls, monkeypatch):
        monkeypatch.setattr(EventStatements, "_built", {})
        monkeypatch.setattr(connection.features, "supports_update_conflicts_with_target", False)
        with CaptureQueriesContext(connection) as queries:
            assert deliver(client, EVENT).status_code == 200
        assert not any("ON CONFLICT" in sql for sql in event_queries(queries))
        assert calls == ["evt_1"]

    def test_handlers_get_the_stored_row(self):
        seen = []

        def handler(event):
            stored = WebhookEvent.objects.get(pk=event.pk)
            seen.append((stored.event_id, event.attempts, event.payload))

        receiver("pipeline", "thing.happened")(handler)
        try:
            event, outcome = process_delivery("pipeline", VerifiedDelivery("evt_1", *_typed()))
        finally:
            disconnect("pipeline", "thing.happened", handler)
        assert outcome == "processed"
        assert seen == [("evt_1", 1, EVENT)]
        assert event.pk == WebhookEvent.objects.get().pk

    def test_a_duplicate_returns_the_stored_event(self, calls):
        first, _ = process_delivery("pipeline", VerifiedDelivery("evt_1", *_typed()))
        again, outcome = process_delivery("pipeline", VerifiedDelivery("evt_1", *_typed()))
        assert outcome == "duplicate"
        assert (again.pk, again.status, again.payload) == (first.pk, "processed", EVENT)

    def test_a_delivery_overtaken_by_a_concurrent_one_is_a_duplicate(
        self, client, calls, monkeypatch
    ):
        deliver(client, EVENT)
        find = EventStatements.find
        looked = []

        def find_before_the_other_committed(self, provider, event_id):
            looked.append(event_id)
            return None if len(looked) == 1 else find(self, provider, event_id)

        monkeypatch.setattr(EventStatements, "find", find_before_the_other_committed)
        response = deliver(client, EVENT)
        assert response.json() == {"status": "duplicate", "duplicate": True}
        assert calls == ["evt_1"]
        assert WebhookEvent.objects.get().attempts == 1
        assert IntegrationLog.objects.filter(request_summary__outcome="duplicate").count() == 1

    def test_a_failure_never_overwrites_a_concurrent_success(self, client, monkeypatch):
        claim = EventStatements.claim

        def fails(event):
            raise RuntimeError("boom")

        def claim_after_a_concurrent_success(self, provider, delivery, status, now, **kwargs):
            if status == "failed":  # meanwhile a redelivery processed the event
                WebhookEvent.objects.create(
                    provider=provider, event_id=delivery.event_id, status="processed", attempts=1
                )
            return claim(self, provider, delivery, status, now, **kwargs)

        monkeypatch.setattr(EventStatements, "claim", claim_after_a_concurrent_success)
        receiver("pipeline", "thing.happened")(fails)
        try:
            response = deliver(client, EVENT)
        finally:
            disconnect("pipeline", "thing.happened", fails)
        assert response.status_code == 500
        assert (WebhookEvent.objects.get().status, WebhookEvent.objects.get().error) == (
            "processed",
            "",
        )
        log = IntegrationLog.objects.get(provider="pipeline")
        assert (log.error_code, log.error) == ("handler_failed", "RuntimeError: boom")

    def test_a_redelivery_runs_as_the_type_first_stored(self, client, calls):
        WebhookEvent.objects.create(
            provider="pipeline", event_id="evt_1", event_type="thing.happened", status="failed"
        )
        response = deliver(client, {"id": "evt_1", "type": "nobody.cares"})
        assert response.json()["status"] == "processed"
        assert calls == ["evt_1"]
        assert WebhookEvent.objects.get().event_type == "thing.happened"

    def test_the_status_follows_the_receivers_that_ran(self, client, monkeypatch):
        # Receivers are counted before the handlers run, to insert the final status at
        # once; if they change meanwhile (another thread), the stored status follows.
        monkeypatch.setattr(processing, "_has_receivers", lambda provider: True)
        response = deliver(client, {"id": "evt_6", "type": "nobody.cares"})
        assert response.json()["status"] == "ignored"
        assert WebhookEvent.objects.get().status == "ignored"


def _typed():
    return EVENT["type"], EVENT


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_in_the_background_the_log_row_follows_the_events_commit(calls, settings, monkeypatch):
    from patchbay.core import recording

    settings.PATCHBAY_RECORD_IN_BACKGROUND = True
    queued = []
    monkeypatch.setattr(recording._writer, "submit", lambda record: queued.append(record) or True)
    with CaptureQueriesContext(connection) as queries:
        assert deliver(Client(), EVENT).json() == {"status": "processed", "duplicate": False}
    assert not any("patchbay_integrationlog" in query["sql"] for query in queries)
    assert WebhookEvent.objects.get().status == "processed"  # committed without the row
    [record] = queued
    assert (record.direction, record.success, record.summary["outcome"]) == (
        "inbound",
        True,
        "processed",
    )
    recording.store_records(queued)
    assert IntegrationLog.objects.get().operation == "webhook"
