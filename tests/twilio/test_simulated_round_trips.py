"""What a simulated send costs a test: its queries in the test's transaction, and what they store.

A test suite's sends run inside a transaction (``TestCase``, pytest-django),
where every round trip to the database is paid by the test. The send and its
three status callbacks store their four log rows together, in one round trip
on PostgreSQL, at the end of the send; the callbacks' effects (the events, the
message's status, the signal) are the same as before.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet

from patchbay.core import recording
from patchbay.models import SMS, IntegrationLog, WebhookEvent
from patchbay.signals import sms_status_changed
from patchbay.twilio import shortcuts
from tests.conftest import inserts_refused
from tests.dummy import DummyClient
from tests.twilio.helpers import TO


@pytest.fixture(autouse=True)
def _simulate(settings):
    settings.PATCHBAY_SIMULATE = True


def _stored_as_a_send_stores_them():
    logs = IntegrationLog.objects.order_by("created_at", "pk")
    assert [(row.direction, row.operation) for row in logs] == [
        ("outbound", "send_sms"),
        ("inbound", "webhook"),
        ("inbound", "webhook"),
        ("inbound", "webhook"),
    ]
    assert [row.request_summary["event_type"] for row in logs[1:]] == ["message.status"] * 3
    events = WebhookEvent.objects.order_by("received_at", "pk")
    assert [event.event_id.rsplit(":", 1)[1] for event in events] == ["queued", "sent", "delivered"]
    assert {event.status for event in events} == {WebhookEvent.Status.PROCESSED}


@pytest.mark.usefixtures("postgres_only")
def test_a_simulated_send_makes_15_round_trips_in_a_transaction(django_assert_num_queries):
    _warm_send()
    # The opt-out check and the SMS row; per callback its savepoint, event, status
    # UPDATE and release; the four log rows (send and callbacks) in one query.
    with transaction.atomic(), django_assert_num_queries(15):
        result = shortcuts.send_sms(TO, "hi")
    assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"
    _stored_as_a_send_stores_them()


def _warm_send():
    shortcuts.send_sms(TO, "first")  # the first marks the service, once
    IntegrationLog.objects.all().delete()
    WebhookEvent.objects.all().delete()


@pytest.mark.django_db
def test_a_simulated_send_makes_18_queries_on_sqlite(django_assert_num_queries):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's count")
    _warm_send()
    # As on PostgreSQL, but the four log rows and their rollup take a savepoint, two
    # INSERTs and its release: SQLite's statements cannot be sent as one string.
    with transaction.atomic(), django_assert_num_queries(18):
        result = shortcuts.send_sms(TO, "hi")
    assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"
    _stored_as_a_send_stores_them()


@pytest.mark.django_db
def test_the_opt_out_check_and_status_updates_are_not_rebuilt_by_the_orm(monkeypatch):
    # The send's opt-out check and each callback's conditional UPDATE are built once per
    # shape and database, not filtered, cloned and compiled by the ORM on every send.
    _warm_send()
    built = []
    update, exists = QuerySet.update, QuerySet.exists

    def updating(self, **kwargs):
        built.append(("update", self.model))
        return update(self, **kwargs)

    def asking(self):
        built.append(("exists", self.model))
        return exists(self)

    monkeypatch.setattr(QuerySet, "update", updating)
    monkeypatch.setattr(QuerySet, "exists", asking)
    with transaction.atomic():
        result = shortcuts.send_sms(TO, "hi")
    assert built == []
    sms = SMS.objects.get(pk=result["sms_id"])
    assert (sms.status, sms.sent_at is not None, sms.delivered_at is not None) == (
        "delivered",
        True,
        True,
    )
    _stored_as_a_send_stores_them()


@pytest.mark.django_db
def test_the_callbacks_effects_are_seen_as_they_happen():
    seen = []

    def receiver(sender, sms, status, **kwargs):
        # Each move is heard while the send runs, the row already moved.
        seen.append((status, SMS.objects.get(pk=sms.pk).status))

    sms_status_changed.connect(receiver)
    try:
        with transaction.atomic():
            result = shortcuts.send_sms(TO, "hi")
    finally:
        sms_status_changed.disconnect(receiver)
    assert seen == [("sent", "sent"), ("delivered", "delivered")]
    assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"
    _stored_as_a_send_stores_them()


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_each_callback_is_recorded_as_before():
    result = shortcuts.send_sms(TO, "hi")
    recording.flush()
    assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"
    _stored_as_a_send_stores_them()


# -- stored_together ------------------------------------------------------------------------


@pytest.mark.django_db
def test_stored_together_stores_the_rows_at_its_end_with_their_times():
    with transaction.atomic():
        with recording.stored_together():
            DummyClient(debug_mode=True).create_item("a")
            DummyClient(debug_mode=True).create_item("b")
            assert not IntegrationLog.objects.filter(operation="create_item").exists()
        rows = list(IntegrationLog.objects.filter(operation="create_item").order_by("pk"))
    assert len(rows) == 2
    assert rows[0].created_at <= rows[1].created_at


@pytest.mark.django_db
def test_stored_together_still_stores_when_its_block_raises():
    def failing_block():
        with recording.stored_together():
            DummyClient(debug_mode=True).create_item("a")
            raise RuntimeError("the block failed")

    with transaction.atomic():
        with pytest.raises(RuntimeError):
            failing_block()
        assert IntegrationLog.objects.filter(operation="create_item").count() == 1


@pytest.mark.django_db(transaction=True)
def test_stored_together_outside_a_transaction_changes_nothing():
    with recording.stored_together():
        DummyClient(debug_mode=True).create_item("a")
        recording.flush()
        assert IntegrationLog.objects.filter(operation="create_item").count() == 1


@pytest.mark.django_db
def test_a_refused_row_is_logged_and_the_callers_transaction_goes_on(caplog):
    with inserts_refused("patchbay_integrationlog"), transaction.atomic():
        result = shortcuts.send_sms(TO, "hi")
        assert result["success"]
        assert SMS.objects.get(pk=result["sms_id"]).status == "delivered"
        assert not IntegrationLog.objects.exists()
    assert "Could not store the IntegrationLog row(s)" in caplog.text
