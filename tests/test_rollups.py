"""The dashboard's hourly rollups: buckets, percentiles, the recorder's upkeep, the rebuild."""

from __future__ import annotations

import datetime
import io
import math
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from patchbay import tasks
from patchbay.core import recording, rollups
from patchbay.core.recording import CallRecord, store_records
from patchbay.models import IntegrationLog, LogRollup
from tests.conftest import inserts_refused, run_concurrently
from tests.dummy import SECRET, DummyClient

NOW = datetime.datetime(2026, 11, 30, 15, 42, tzinfo=datetime.timezone.utc)


def record(provider="loops", *, at=NOW, duration_ms=100, success=True, **kwargs):
    return CallRecord(
        provider=provider,
        operation="send",
        success=success,
        duration_ms=duration_ms,
        at=at,
        error_code="" if success else "timeout",
        **kwargs,
    )


def stored():
    """The rollups as ``(provider, hour, simulated, bucket) -> (calls, errors)``."""
    return {
        (row.provider, row.hour, row.simulated, row.bucket): (row.calls, row.errors)
        for row in LogRollup.objects.all()
    }


def from_scratch():
    """The rollups of every stored row, computed in Python one row at a time."""
    expected: dict[tuple, tuple[int, int]] = {}
    for row in IntegrationLog.objects.filter(direction=IntegrationLog.Direction.OUTBOUND):
        hour = row.created_at.astimezone(datetime.timezone.utc).replace(
            minute=0, second=0, microsecond=0
        )
        key = (row.provider, hour, row.simulated, rollups.bucket_of(row.duration_ms))
        calls, errors = expected.get(key, (0, 0))
        expected[key] = (calls + 1, errors + (not row.success))
    return expected


def random_records(count, seed=7):
    generator = random.Random(seed)
    return [
        record(
            generator.choice(["loops", "stripe"]),
            at=NOW - datetime.timedelta(minutes=generator.randrange(0, 60 * 30)),
            duration_ms=int(generator.lognormvariate(5, 1.5)),
            success=generator.random() > 0.2,
            simulated=generator.random() > 0.7,
        )
        for _ in range(count)
    ]


class TestBuckets:
    def test_bounds_are_whole_milliseconds_growing_at_most_by_a_twentieth_decade(self):
        assert rollups.BOUNDS[0] == 1
        assert rollups.BOUNDS[-1] == 100_000
        assert list(rollups.BOUNDS[:10]) == list(range(1, 11))
        for low, high in zip(rollups.BOUNDS, rollups.BOUNDS[1:], strict=False):
            assert low < high <= max(low + 1, low * 1.1221 + 1)

    @pytest.mark.parametrize(
        ("duration", "bucket"), [(0, 0), (1, 1), (9, 9), (10, 10), (11, 10), (12, 11)]
    )
    def test_a_duration_falls_in_the_bucket_of_the_bounds_it_reaches(self, duration, bucket):
        assert rollups.bucket_of(duration) == bucket

    def test_a_duration_of_100_s_or_more_falls_in_the_last_bucket(self):
        assert rollups.bucket_of(100_000) == rollups.BUCKETS - 1
        assert rollups.bucket_of(10**9) == rollups.BUCKETS - 1

    def test_percentiles_are_never_below_the_true_one_and_at_most_12_percent_above(self):
        generator = random.Random(3)
        for _ in range(200):
            durations = sorted(
                int(generator.lognormvariate(4, 2)) % 99_999
                for _ in range(generator.randint(1, 300))
            )
            histogram = [0] * rollups.BUCKETS
            for duration in durations:
                histogram[rollups.bucket_of(duration)] += 1
            for fraction in (0.5, 0.95):
                true = durations[max(1, math.ceil(len(durations) * fraction)) - 1]
                estimate = rollups.percentile(histogram, fraction)
                assert estimate is not None
                assert true <= estimate <= max(true, true * 1.1221)
                if true < 10:
                    assert estimate == true

    def test_a_percentile_in_the_last_bucket_is_none_and_of_nothing_zero(self):
        histogram = [0] * rollups.BUCKETS
        assert rollups.percentile(histogram, 0.5) == 0
        histogram[-1] = 1
        assert rollups.percentile(histogram, 0.5) is None


@pytest.mark.django_db
class TestTheRecorderKeepsThem:
    def test_stored_records_are_counted_per_provider_hour_mode_and_bucket(self):
        store_records(
            [
                record(duration_ms=100),
                record(duration_ms=105, success=False),
                record(duration_ms=100, simulated=True),
                record("stripe", at=NOW - datetime.timedelta(hours=1), duration_ms=3),
            ]
        )
        hour = NOW.replace(minute=0)
        assert stored() == {
            ("loops", hour, False, rollups.bucket_of(100)): (2, 1),
            ("loops", hour, True, rollups.bucket_of(100)): (1, 0),
            ("stripe", hour - datetime.timedelta(hours=1), False, 3): (1, 0),
        }

    def test_later_batches_add_to_the_same_rows(self):
        for _ in range(3):
            store_records([record(), record(success=False)])
        assert stored() == {("loops", NOW.replace(minute=0), False, rollups.bucket_of(100)): (6, 3)}

    def test_inbound_deliveries_and_rows_not_stored_are_not_counted(self):
        store_records(
            [
                record(direction=IntegrationLog.Direction.INBOUND),
                record(store_row=False),
            ]
        )
        assert stored() == {}

    def test_many_batches_equal_the_rows_counted_from_scratch(self):
        records = random_records(600)
        for start in range(0, len(records), 50):
            store_records(records[start : start + 50])
        assert stored() == from_scratch()

    def test_a_failed_insert_stores_neither_rows_nor_rollups(self):
        with inserts_refused("patchbay_logrollup"):
            store_records([record()])
        assert IntegrationLog.objects.count() == 0
        assert stored() == {}

    def test_other_databases_add_with_f_updates(self, monkeypatch):
        monkeypatch.setattr(connection.features, "supports_update_conflicts_with_target", False)
        calls = []
        monkeypatch.setattr(rollups, "_upsert", lambda *args: calls.append(args))
        records = random_records(200, seed=11)
        store_records(records[:100])
        store_records(records[100:])
        assert calls == []
        assert stored() == from_scratch()

    def test_a_call_made_through_a_client_is_counted(self):
        assert DummyClient(api_key=SECRET, debug_mode=False).create_item("a")["success"]
        recording.flush(timeout=10)
        row = IntegrationLog.objects.get()
        assert stored() == {
            ("dummy", rollups.hour_of(row.created_at), False, rollups.bucket_of(row.duration_ms)): (
                1,
                0,
            )
        }


@pytest.fixture
def in_background(settings):
    settings.PATCHBAY_RECORD_IN_BACKGROUND = True
    yield
    recording.flush(timeout=10)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
class TestOnPostgreSQL:
    @pytest.mark.usefixtures("in_background")
    def test_the_background_writer_keeps_them(self):
        for _ in range(30):
            DummyClient(api_key=SECRET, debug_mode=False).create_item("a")
        assert recording.flush(timeout=10)
        assert IntegrationLog.objects.count() == 30
        assert stored() == from_scratch()
        assert sum(calls for calls, _ in stored().values()) == 30

    def test_concurrent_upserts_of_the_same_rows_lose_no_count(self):
        records = [record(duration_ms=100), record(duration_ms=2000, success=False)]

        def store_many():
            for _ in range(20):
                store_records(records)

        run_concurrently(store_many, 4)
        hour = NOW.replace(minute=0)
        assert stored() == {
            ("loops", hour, False, rollups.bucket_of(100)): (80, 0),
            ("loops", hour, False, rollups.bucket_of(2000)): (80, 80),
        }


@pytest.mark.django_db
class TestRebuild:
    def rows(self):
        IntegrationLog.objects.bulk_create(
            [record.log_row() for record in random_records(500, seed=5)]
            + [record(direction=IntegrationLog.Direction.INBOUND).log_row()]
            # Every bound and its neighbours: the SQL buckets are the Python ones.
            + [
                record(duration_ms=duration).log_row()
                for bound in rollups.BOUNDS
                for duration in (bound - 1, bound, bound + 1)
            ]
        )

    def test_the_command_replaces_the_rollups_with_the_rows_counts(self):
        self.rows()
        LogRollup.objects.create(provider="gone", hour=NOW, bucket=1, calls=9)
        out = io.StringIO()
        call_command("patchbay_rebuild_rollups", stdout=out)
        assert stored() == from_scratch()
        assert out.getvalue() == f"Wrote {len(from_scratch())} rollup rows.\n"

    def test_a_range_rebuilds_only_its_hours(self):
        self.rows()
        call_command("patchbay_rebuild_rollups", stdout=io.StringIO())
        everything = stored()
        LogRollup.objects.update(calls=0)
        since, until = NOW - datetime.timedelta(hours=5), NOW - datetime.timedelta(hours=2)
        call_command(
            "patchbay_rebuild_rollups",
            since=since.isoformat(),
            until=until.isoformat(),
            stdout=io.StringIO(),
        )
        low, high = rollups.hour_of(since), rollups.hour_of(until)
        assert {key: value for key, value in stored().items() if low <= key[1] < high} == {
            key: value for key, value in everything.items() if low <= key[1] < high
        }
        assert all(value[0] == 0 for key, value in stored().items() if not low <= key[1] < high)

    def test_a_provider_rebuilds_only_its_rollups(self):
        self.rows()
        call_command("patchbay_rebuild_rollups", provider="stripe", stdout=io.StringIO())
        assert {key[0] for key in stored()} == {"stripe"}

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"days": 1, "since": "2026-11-01T00:00"}, "not both"),
            ({"days": -1}, "zero or more"),
            ({"since": "yesterday"}, "ISO 8601"),
        ],
    )
    def test_bad_options_are_refused(self, options, message):
        with pytest.raises(CommandError, match=message):
            call_command("patchbay_rebuild_rollups", **options)

    def test_the_task_stops_at_the_start_of_the_current_hour(self, monkeypatch):
        seen = {}
        monkeypatch.setattr(tasks, "run_command", lambda name, **options: seen.update(options))
        tasks.rebuild_rollups()
        assert seen["days"] == 1
        until = datetime.datetime.fromisoformat(seen["until"])
        assert until.minute == until.second == 0
