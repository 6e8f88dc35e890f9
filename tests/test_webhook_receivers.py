"""The order webhook handlers run in, and webhook_received as a notification after them."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from patchbay.core.signing import hmac_sha256_hex
from patchbay.models import IntegrationLog, WebhookEvent
from patchbay.signals import webhook_received
from patchbay.stripe import handlers as stripe_handlers
from patchbay.webhooks import disconnect, handlers_for, receiver
from patchbay.webhooks.registry import builtin_receiver
from patchbay.webhooks.statements import EventStatements
from tests.webhook_views import SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.webhook_views")]

EVENT = {"id": "evt_1", "type": "thing.happened"}


def deliver(client, payload=EVENT):
    body = json.dumps(payload).encode()
    return client.post(
        "/hook/",
        data=body,
        content_type="application/json",
        headers={"X-Signature": hmac_sha256_hex(SECRET, body)},
    )


@pytest.fixture(params=["upsert", "portable"])
def storage(request, monkeypatch):
    """Both ways of storing an event: one upsert, or (other backends) a locked get_or_create."""
    monkeypatch.setattr(EventStatements, "_built", {})
    if request.param == "portable":
        monkeypatch.setattr(connection.features, "supports_update_conflicts_with_target", False)


@pytest.fixture
def connected():
    """Connect signal receivers for the test's provider; disconnected afterwards."""
    receivers = []

    def connect(function):
        webhook_received.connect(function, sender="pipeline", weak=False)
        receivers.append(function)
        return function

    yield connect
    for function in receivers:
        webhook_received.disconnect(function, sender="pipeline")


@pytest.fixture
def registered():
    """Register handlers (``register(decorator, function)``); unregistered afterwards."""
    done = []

    def register(decorator, function):
        decorator(function)
        done.append(function)
        return function

    yield register
    for function in done:
        for event_type in ("thing.happened", "*"):
            disconnect("pipeline", event_type, function)


# -- ordering ---------------------------------------------------------------------------


def test_patchbays_handlers_run_first_then_exact_types_before_every_type(client, registered):
    ran = []

    def named(name):
        def handler(event):
            ran.append(name)

        handler.__name__ = name
        return handler

    # Registered in the worst order: the project's first, catch-alls before exact types.
    registered(receiver("pipeline"), named("project, every type"))
    registered(receiver("pipeline", "thing.happened"), named("project, exact"))
    registered(builtin_receiver("pipeline"), named("patchbay, every type"))
    registered(builtin_receiver("pipeline", "thing.happened"), named("patchbay, exact"))

    assert deliver(client).json()["status"] == "processed"

    assert ran == [
        "patchbay, exact",
        "patchbay, every type",
        "project, exact",
        "project, every type",
    ]


def test_stripes_own_handler_runs_before_the_projects(registered):
    project_handler = registered(receiver("stripe", "invoice.paid"), lambda event: None)
    try:
        assert handlers_for("stripe", "invoice.paid") == [
            stripe_handlers.invoice_paid,
            project_handler,
        ]
    finally:
        disconnect("stripe", "invoice.paid", project_handler)


def test_a_handler_registered_twice_runs_once(client, registered):
    ran = []

    def handler(event):
        ran.append(event.event_id)

    registered(receiver("pipeline", "thing.happened"), handler)
    receiver("pipeline", "thing.happened")(handler)

    deliver(client)

    assert ran == ["evt_1"]


# -- webhook_received -------------------------------------------------------------------


@pytest.mark.usefixtures("storage")
def test_receivers_are_notified_after_the_handlers_with_the_final_status(
    client, registered, connected
):
    seen = []
    registered(receiver("pipeline", "thing.happened"), lambda event: seen.append("handler"))
    connected(lambda sender, event, **kwargs: seen.append(("signal", sender, event.status)))

    assert deliver(client).json() == {"status": "processed", "duplicate": False}

    assert seen == ["handler", ("signal", "pipeline", "processed")]


def test_a_failing_receiver_is_logged_and_the_event_stays_processed(
    client, registered, connected, caplog
):
    notified = []

    def handler(event):
        IntegrationLog.objects.create(provider="handler-write", operation="x", success=True)

    def breaks(sender, event, **kwargs):
        IntegrationLog.objects.create(provider="receiver-write", operation="x", success=True)
        raise RuntimeError("metrics are down")

    registered(receiver("pipeline", "thing.happened"), handler)
    connected(breaks)
    connected(lambda sender, event, **kwargs: notified.append(event.event_id))

    with caplog.at_level(logging.ERROR, logger="patchbay.webhooks"):
        response = deliver(client)

    assert response.status_code == 200
    assert response.json() == {"status": "processed", "duplicate": False}
    event = WebhookEvent.objects.get()
    assert (event.status, event.error, event.attempts) == ("processed", "", 1)
    assert notified == ["evt_1"]  # the other receivers are notified all the same
    assert IntegrationLog.objects.filter(provider="handler-write").exists()
    assert not IntegrationLog.objects.filter(provider="receiver-write").exists()
    [record] = [r for r in caplog.records if "webhook_received receiver" in r.getMessage()]
    assert "metrics are down" in str(record.exc_info[1])


def test_receivers_are_not_notified_of_a_failed_run(client, registered, connected):
    notified = []

    def fails(event):
        raise RuntimeError("boom")

    registered(receiver("pipeline", "thing.happened"), fails)
    connected(lambda sender, event, **kwargs: notified.append(event.event_id))

    assert deliver(client).status_code == 500
    assert notified == []


def test_receivers_are_not_notified_of_a_duplicate(client, connected):
    notified = []
    connected(lambda sender, event, **kwargs: notified.append(event.event_id))

    deliver(client)
    assert deliver(client).json()["duplicate"] is True

    assert notified == ["evt_1"]


def test_a_receiver_that_breaks_the_transaction_leaves_the_event_processed(client, connected):
    # On PostgreSQL a refused statement aborts the transaction: the savepoint saves it.
    def refused_write(sender, event, **kwargs):
        IntegrationLog.objects.create(provider="x", operation="x", success=True, status_code=-1)

    connected(refused_write)

    assert deliver(client).json() == {"status": "processed", "duplicate": False}
    assert WebhookEvent.objects.get().status == "processed"
