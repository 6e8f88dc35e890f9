"""Recording calls: batched health updates and the background writer."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from patchbay.core import recording
from patchbay.core.health import Outcome, record_outcome, record_outcomes
from patchbay.core.writer import BackgroundWriter
from patchbay.models import ExternalService, IntegrationLog, LogRollup
from tests.conftest import inserts_refused
from tests.dummy import SECRET, DummyClient

OUTCOMES = {
    "ok": Outcome(success=True),
    "fault": Outcome(success=False, service_fault=True, error="timed out"),
    "declined": Outcome(success=False, service_fault=False, error="card declined"),
}
HEALTH_FIELDS = (
    "total_requests",
    "failed_requests",
    "consecutive_failures",
    "health_status",
    "last_error",
)


def health(provider):
    return ExternalService.objects.filter(provider=provider).values(*HEALTH_FIELDS).get()


class TestBatchedHealth:
    @pytest.mark.django_db
    @pytest.mark.parametrize("before", [0, 1, 2])
    def test_a_batch_ends_where_the_same_outcomes_one_by_one_end(self, settings, before):
        settings.PATCHBAY_HEALTH_DOWN_THRESHOLD = 3
        sequences = [
            list(sequence)
            for length in range(1, 5)
            for sequence in itertools.product(OUTCOMES, repeat=length)
        ]
        for number, sequence in enumerate(sequences):
            one_by_one, batched = f"single-{number}", f"batch-{number}"
            for provider in (one_by_one, batched):
                for _ in range(before):  # a run of failures already stored
                    record_outcome(provider, success=False, service_fault=True, error="earlier")
            for name in sequence:
                outcome = OUTCOMES[name]
                record_outcome(
                    one_by_one,
                    success=outcome.success,
                    service_fault=outcome.service_fault,
                    error=outcome.error,
                )
            record_outcomes(batched, [OUTCOMES[name] for name in sequence])
            assert health(batched) == health(one_by_one), (before, sequence)

    @pytest.mark.django_db
    def test_times_are_those_of_the_calls(self):
        earlier = timezone.now() - timezone.timedelta(minutes=5)
        record_outcomes(
            "dummy",
            [
                Outcome(success=True, at=earlier),
                Outcome(success=False, service_fault=True, error="down", at=earlier),
            ],
            name="Dummy",
        )
        row = ExternalService.objects.get(provider="dummy")
        assert row.name == "Dummy"
        assert row.last_success_at == earlier == row.last_failure_at


class TestBackgroundWriter:
    def test_stores_everything_in_order_in_batches(self):
        batches: list[list[int]] = []
        writer = BackgroundWriter(batches.append, name="test-writer", batch_size=10)
        for number in range(95):
            assert writer.submit(number)
        assert writer.flush(timeout=5)
        assert [n for batch in batches for n in batch] == list(range(95))
        assert all(0 < len(batch) <= 10 for batch in batches)

    def test_records_arriving_together_share_one_batch(self):
        batches: list[list[int]] = []
        writer = BackgroundWriter(batches.append, name="test-writer", linger=30)
        for number in range(3):
            writer.submit(number)
        assert writer.flush(timeout=5)  # ends the wait at once
        assert batches == [[0, 1, 2]]

    def test_a_full_queue_hands_the_item_back(self):
        release = threading.Event()
        stored: list[str] = []

        def slow_store(batch):
            release.wait(5)
            stored.extend(batch)

        writer = BackgroundWriter(slow_store, name="test-writer", max_queued=1, batch_size=1)
        assert writer.submit("first")
        deadline = time.monotonic() + 5
        while not writer.submit("second"):  # until the thread took "first" off the queue
            assert time.monotonic() < deadline
        assert writer.submit("third") is False  # the queue holds "second": full
        release.set()
        assert writer.flush(timeout=5)
        assert stored == ["first", "second"]

    def test_a_failing_batch_is_logged_and_the_next_ones_stored(self, caplog):
        stored: list[int] = []

        def store(batch):
            if 0 in batch:
                raise RuntimeError("database went away")
            stored.extend(batch)

        writer = BackgroundWriter(store, name="test-writer", batch_size=1)
        writer.submit(0)
        writer.flush(timeout=5)
        writer.submit(1)
        assert writer.flush(timeout=5)
        assert stored == [1]
        assert "test-writer could not store 1 record(s)" in caplog.text

    def test_stop_stores_what_is_queued_and_a_later_submit_starts_again(self):
        stored: list[int] = []
        writer = BackgroundWriter(stored.extend, name="test-writer", linger=30)
        writer.submit(1)
        assert writer.stop(timeout=5)
        assert (stored, writer.running) == ([1], False)
        writer.submit(2)
        assert writer.running
        assert writer.flush(timeout=5)
        assert stored == [1, 2]

    def test_a_batch_that_fails_once_is_stored_on_the_second_attempt(self, caplog):
        stored: list[int] = []
        failures = iter([RuntimeError("connection reset")])

        def store(batch):
            for error in failures:
                raise error
            stored.extend(batch)

        writer = BackgroundWriter(store, name="test-writer")
        writer.submit(7)
        assert writer.flush(timeout=5)
        assert stored == [7]
        assert "could not store" not in caplog.text

    def test_flush_stores_what_a_stop_left_queued(self):
        stored: list[int] = []
        writer = BackgroundWriter(stored.extend, name="test-writer")
        writer.submit(1)
        assert writer.stop(timeout=5)
        writer._queue.put(2)  # submitted while the stop was ending the thread
        assert writer.flush(timeout=5)
        assert stored == [1, 2]

    def test_flush_without_a_thread_returns_at_once(self):
        assert BackgroundWriter(list, name="idle").flush(timeout=0) is True


@pytest.fixture
def in_background(settings):
    settings.PATCHBAY_RECORD_IN_BACKGROUND = True
    yield
    recording.flush(timeout=10)


def live_call(**kwargs):
    return DummyClient(api_key=SECRET, debug_mode=False, **kwargs).create_item("a")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only", "in_background")
class TestRecordingInTheBackground:
    def test_a_call_outside_a_transaction_is_stored_by_the_writer(self):
        before = timezone.now()
        assert live_call()["success"]
        after = timezone.now()
        assert recording.flush(timeout=10)
        row = IntegrationLog.objects.get()
        assert (row.provider, row.operation, row.success) == ("dummy", "create_item", True)
        assert before <= row.created_at <= after  # the call's time, not the write's
        assert health("dummy")["total_requests"] == 1

    def test_many_threads_lose_no_call(self):
        def calls():
            for _ in range(20):
                live_call()
            connection.close()

        threads = [threading.Thread(target=calls) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert recording.flush(timeout=10)
        assert IntegrationLog.objects.count() == 80
        assert health("dummy")["total_requests"] == 80

    def test_inside_a_transaction_the_row_is_part_of_it(self):
        with transaction.atomic():
            live_call()
            assert IntegrationLog.objects.count() == 1  # stored already, in this transaction

    def test_a_full_queue_stores_in_the_calling_thread(self, monkeypatch):
        monkeypatch.setattr(recording._writer, "submit", lambda record: False)
        live_call()
        assert IntegrationLog.objects.count() == 1

    def test_what_is_queued_at_exit_is_stored(self):
        script = (
            "import django, os, sys\n"
            "os.environ['DJANGO_SETTINGS_MODULE'] = 'tests.settings'\n"
            "from django.conf import settings\n"
            "django.setup()\n"
            "settings.DATABASES['default']['NAME'] = sys.argv[1]\n"
            "settings.PATCHBAY_RECORD_IN_BACKGROUND = True\n"
            "from tests.dummy import SECRET, DummyClient\n"
            "for _ in range(50):\n"
            "    DummyClient(api_key=SECRET, debug_mode=False).create_item('a')\n"
        )
        database = connection.settings_dict["NAME"]
        subprocess.run(  # noqa: S603  (our own interpreter and script)
            [sys.executable, "-c", script, database], check=True, timeout=60
        )
        assert IntegrationLog.objects.filter(provider="dummy").count() == 50


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_background")
def test_sqlite_in_deferred_transactions_is_written_by_the_caller():
    if connection.vendor != "sqlite":
        pytest.skip("about SQLite")
    live_call()
    assert IntegrationLog.objects.count() == 1  # no flush needed


SQLITE_IMMEDIATE = """
import django, os, sys, threading
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
from django.conf import settings
settings.DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[1],
    "OPTIONS": {"transaction_mode": "IMMEDIATE"},
}}
settings.PATCHBAY_RECORD_IN_BACKGROUND = True
django.setup()
from django.core.management import call_command
from django.db import transaction
call_command("migrate", verbosity=0)
from patchbay.core import recording
from patchbay.models import ExternalService, IntegrationLog, LogRollup
from tests.dummy import SECRET, DummyClient
for number in range(100):
    DummyClient(api_key=SECRET, debug_mode=False).create_item("a")
    with transaction.atomic():  # reads, then writes, while the writer writes
        ExternalService.objects.get_or_create(provider=f"other-{number}")
assert any(t.name == "patchbay-recorder" for t in threading.enumerate())
recording.flush()
print(IntegrationLog.objects.count())
"""


def test_sqlite_in_immediate_transactions_is_written_in_the_background(tmp_path):
    completed = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", SQLITE_IMMEDIATE, str(tmp_path / "db.sqlite3")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "100"


@pytest.mark.django_db(transaction=True)
def test_off_by_setting_stores_at_once(settings, monkeypatch):
    settings.PATCHBAY_RECORD_IN_BACKGROUND = False

    def refuse(record):
        raise AssertionError("queued although recording in the background is off")

    monkeypatch.setattr(recording._writer, "submit", refuse)
    live_call()
    assert IntegrationLog.objects.count() == 1


# -- in the caller's transaction: the log row costs one round trip, and never breaks it -------


@pytest.fixture
def log_rows_refused(db):
    with inserts_refused("patchbay_integrationlog"):
        yield


@pytest.mark.usefixtures("postgres_only")
def test_a_simulated_call_in_a_transaction_is_recorded_in_one_round_trip(
    django_assert_num_queries,
):
    DummyClient(debug_mode=True).create_item("a")  # the first marks the service, once
    with transaction.atomic(), django_assert_num_queries(1):
        DummyClient(debug_mode=True).create_item("b")
    assert IntegrationLog.objects.filter(operation="create_item").count() == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("log_rows_refused")
def test_a_row_the_database_refuses_leaves_the_callers_transaction_usable(caplog):
    with transaction.atomic():
        ExternalService.objects.create(provider="mine", name="Mine")
        result = DummyClient(debug_mode=True).create_item("a")
        assert result["success"]
        # The caller's transaction goes on: its own writes and reads still work.
        ExternalService.objects.filter(provider="mine").update(name="Still mine")
        assert ExternalService.objects.get(provider="mine").name == "Still mine"
        assert not IntegrationLog.objects.exists()
    assert "Could not store the IntegrationLog row(s) for dummy.create_item" in caplog.text


@pytest.mark.usefixtures("postgres_only")
def test_server_side_binding_takes_one_statement_a_query(monkeypatch, django_assert_num_queries):
    # Server-side binding sends each query with the extended protocol: one statement each.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    DummyClient(debug_mode=True).create_item("a")
    with transaction.atomic(), django_assert_num_queries(4):  # savepoint, row, rollup, release
        DummyClient(debug_mode=True).create_item("b")
    assert IntegrationLog.objects.filter(operation="create_item").count() == 2


def webhook_record(number=0):
    """The record of a delivery as the webhook view makes it: a row, no health."""
    return recording.CallRecord(
        provider="dummy",
        operation="webhook",
        success=True,
        duration_ms=3,
        status_code=200,
        summary={"event_id": f"evt_{number}", "event_type": "item.created", "outcome": "processed"},
        direction=IntegrationLog.Direction.INBOUND,
        at=timezone.now(),
    )


def call_record(number=0, *, success=True):
    """The record of a live outbound call as the client makes it: a row, its health."""
    return recording.CallRecord(
        provider="dummy",
        operation="create_item",
        success=success,
        duration_ms=number,
        status_code=200 if success else 503,
        summary={"name": f"item {number}"},
        at=timezone.now(),
        health=Outcome(success=success, service_fault=not success, at=timezone.now()),
        service_name="Dummy",
    )


def rollup_calls():
    return sum(LogRollup.objects.values_list("calls", flat=True))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
class TestBatchesOnPostgreSQL:
    """What a batch of the background writer costs: it runs outside any transaction."""

    def test_a_batch_of_deliveries_is_one_round_trip(self, django_assert_num_queries):
        # The rows as one statement, committed by itself: no BEGIN, no COMMIT of their own.
        with django_assert_num_queries(1):
            recording.store_records([webhook_record(number) for number in range(15)])
        assert IntegrationLog.objects.filter(operation="webhook").count() == 15

    def test_a_batch_of_calls_sends_its_rows_and_rollups_together(self, django_assert_num_queries):
        recording.store_records([call_record()])  # creates the service's row
        # BEGIN, the health UPDATE, the rows with their rollups, COMMIT: one commit.
        with django_assert_num_queries(4):
            recording.store_records([call_record(number) for number in range(35)])
        assert IntegrationLog.objects.filter(operation="create_item").count() == 36
        assert rollup_calls() == 36
        assert health("dummy")["total_requests"] == 36

    def test_rows_and_rollups_of_a_batch_commit_together(self):
        with inserts_refused("patchbay_logrollup"):
            recording.store_records(
                [webhook_record(), *(call_record(number) for number in range(3))]
            )
        # The rollups refused, the rows went with them; the health update stayed.
        assert not IntegrationLog.objects.exists()
        assert health("dummy")["total_requests"] == 3

    def test_rows_and_rollups_without_health_commit_together(self, caplog):
        # No BEGIN of their own: the one query string is PostgreSQL's one transaction.
        records = [call_record(number)._replace(health=None) for number in range(3)]
        with inserts_refused("patchbay_logrollup"):
            recording.store_records(records)
        assert not IntegrationLog.objects.exists()
        assert "Could not store the IntegrationLog row(s) for dummy.create_item" in caplog.text
        recording.store_records(records)
        assert (IntegrationLog.objects.count(), rollup_calls()) == (3, 3)

    def test_a_refused_batch_of_deliveries_is_logged(self, caplog):
        with inserts_refused("patchbay_integrationlog"):
            recording.store_records([webhook_record(number) for number in range(3)])
        assert not IntegrationLog.objects.exists()
        assert "Could not store the IntegrationLog row(s) for dummy.webhook" in caplog.text

    def test_a_broken_connection_is_raised_for_the_writer_to_retry(self, caplog):
        recording.store_records([webhook_record()])
        connection.connection.close()  # as a database restart leaves it, unknown to Django
        with pytest.raises(DatabaseError):
            recording.store_records([webhook_record(1)])
        assert "Could not store" not in caplog.text  # not given up: the writer tries again
        connection.close()
        recording.store_records([webhook_record(1)])
        assert IntegrationLog.objects.count() == 2


def test_a_log_row_is_given_every_column_but_its_key():
    # log_row() passes the columns by position: a column it does not name would be None,
    # not its default. A new column must be named there (and here).
    at = timezone.now()
    record = recording.CallRecord(
        provider="dummy",
        operation="create_item",
        success=False,
        duration_ms=-1,
        simulated=True,
        error="boom",
        error_code="x" * 120,
        status_code=502,
        summary={"name": "a"},
        at=at,
        user_id=7,
        tenant_key="acme",
    )
    row = record.log_row()
    assert {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields} == {
        "id": None,
        "tenant_key": "acme",
        "level": IntegrationLog.Level.ERROR,
        "user_id": 7,
        "provider": "dummy",
        "operation": "create_item",
        "direction": IntegrationLog.Direction.OUTBOUND,
        "success": False,
        "simulated": True,
        "duration_ms": 0,
        "status_code": 502,
        "error_code": "x" * 100,
        "error": "boom",
        "request_summary": {"name": "a"},
        "created_at": at,
    }
    assert row._state.adding  # a new row, as bulk_create() expects
