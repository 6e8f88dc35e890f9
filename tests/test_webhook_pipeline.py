from __future__ import annotations

import json
import time

import pytest
from django.db import transaction
from django.test import Client

from patchbay.core.signing import hmac_sha256_hex
from patchbay.models import IntegrationLog, WebhookEvent
from patchbay.signals import webhook_received
from patchbay.webhooks import receiver
from patchbay.webhooks.processing import reprocess
from patchbay.webhooks.registry import disconnect
from tests.conftest import run_concurrently
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


@pytest.fixture
def calls():
    seen = []

    def handler(event):
        seen.append(event.event_id)

    receiver("pipeline", "thing.happened")(handler)
    yield seen
    disconnect("pipeline", "thing.happened", handler)


@pytest.mark.django_db
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
            assert event.status == "failed"
            assert "database was busy" in event.error
            second = deliver(client, payload)
            assert second.status_code == 200
            event.refresh_from_db()
            assert (event.status, event.attempts, event.error) == ("processed", 2, "")
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_are_processed_once(postgres_only):
    calls = []

    def slow_handler(event):
        calls.append(event.event_id)
        time.sleep(0.5)  # the second delivery arrives while the first is processing

    receiver("pipeline", "slow.event")(slow_handler)
    payload = {"id": "evt_concurrent", "type": "slow.event"}
    try:
        responses = run_concurrently(lambda: deliver(Client(), payload), 4)
    finally:
        disconnect("pipeline", "slow.event", slow_handler)
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200]
    assert calls == ["evt_concurrent"]
    assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True, True]
    assert WebhookEvent.objects.get().attempts == 1


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
def test_a_failing_log_insert_keeps_the_event(calls, monkeypatch):
    create = IntegrationLog.objects.create

    def failing_create(**fields):  # the database refuses the row (a CHECK constraint)
        return create(**{**fields, "status_code": -1})

    monkeypatch.setattr(IntegrationLog.objects, "create", failing_create)
    assert deliver(Client(), EVENT).json() == {"status": "processed", "duplicate": False}
    assert WebhookEvent.objects.get().status == "processed"
    assert not IntegrationLog.objects.exists()
    assert calls == ["evt_1"]
