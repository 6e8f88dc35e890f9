"""service_health_changed: one signal per change of a service's health, after commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from patchbay.core import health as health_module
from patchbay.core.health import Outcome, record_outcomes
from patchbay.models import ExternalService
from patchbay.signals import service_health_changed
from tests.conftest import run_concurrently

OK = Outcome(success=True)
FAULT = Outcome(success=False, service_fault=True, error="Dummy did not answer in time.")
DECLINED = Outcome(success=False, service_fault=False, error="card declined")


@pytest.fixture
def changes():
    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs["provider"], kwargs["old_state"], kwargs["new_state"]))
        received[-1] += (kwargs["reason"],)

    service_health_changed.connect(receiver, weak=False)
    yield received
    service_health_changed.disconnect(receiver)


def record(outcomes, capture):
    with capture(execute=True):
        record_outcomes("dummy", outcomes, name="Dummy")


@pytest.mark.django_db
class TestTransitions:
    def test_each_change_is_sent_once_with_its_reason(
        self, settings, changes, django_capture_on_commit_callbacks
    ):
        settings.PATCHBAY_HEALTH_DOWN_THRESHOLD = 3
        for batch in ([OK], [OK], [FAULT], [FAULT], [FAULT], [FAULT], [DECLINED], [OK]):
            record(batch, django_capture_on_commit_callbacks)
        reason = FAULT.error
        # A service's first success is how it should be: no signal.
        assert changes == [
            ("dummy", "dummy", "healthy", "degraded", reason),
            ("dummy", "dummy", "degraded", "down", reason),
            ("dummy", "dummy", "down", "healthy", ""),
        ]

    def test_a_run_continuing_from_the_stored_count_reaches_down(
        self, settings, changes, django_capture_on_commit_callbacks
    ):
        settings.PATCHBAY_HEALTH_DOWN_THRESHOLD = 3
        record([FAULT, FAULT], django_capture_on_commit_callbacks)
        record([FAULT], django_capture_on_commit_callbacks)
        assert [change[2:4] for change in changes] == [
            ("unknown", "degraded"),
            ("degraded", "down"),
        ]
        assert ExternalService.objects.get(provider="dummy").consecutive_failures == 3

    def test_a_change_another_process_made_is_not_sent_again(
        self, changes, django_capture_on_commit_callbacks
    ):
        record([FAULT], django_capture_on_commit_callbacks)
        # This process last saw it degraded; another one has since seen it recover.
        ExternalService.objects.filter(provider="dummy").update(health_status="healthy")
        record([OK], django_capture_on_commit_callbacks)
        assert [change[2:4] for change in changes] == [("unknown", "degraded")]

    def test_nothing_is_sent_after_a_rollback(self, changes, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            record_outcomes("dummy", [FAULT])
            transaction.set_rollback(True)
        assert changes == []

    def test_a_failing_receiver_is_logged_and_the_others_still_run(
        self, changes, caplog, django_capture_on_commit_callbacks
    ):
        def broken(sender, **kwargs):
            raise RuntimeError("chat webhook down")

        service_health_changed.connect(broken, weak=False)
        try:
            record([FAULT], django_capture_on_commit_callbacks)
        finally:
            service_health_changed.disconnect(broken)
        assert len(changes) == 1
        assert "service_health_changed receiver" in caplog.text

    def test_a_hand_set_status_is_updated_without_a_signal(
        self, changes, django_capture_on_commit_callbacks
    ):
        ExternalService.objects.update_or_create(
            provider="dummy", defaults={"health_status": "odd"}
        )
        record([OK], django_capture_on_commit_callbacks)
        assert ExternalService.objects.get(provider="dummy").health_status == "healthy"
        assert changes == []


@pytest.mark.django_db(transaction=True)
def test_processes_recording_at_once_send_one_signal_per_change(postgres_only, changes):
    ExternalService.objects.update_or_create(
        provider="dummy", defaults={"health_status": "healthy", "consecutive_failures": 0}
    )

    def fail():
        # Each thread guesses the status as a process that has not seen the change would.
        health_module._last_seen.pop("dummy", None)
        record_outcomes("dummy", [FAULT])

    run_concurrently(fail, 8)
    row = ExternalService.objects.get(provider="dummy")
    assert row.consecutive_failures == 8
    assert row.health_status == "down"
    assert [change[2:4] for change in changes] == [("healthy", "degraded"), ("degraded", "down")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("before", "batch"),
    [("healthy", [OK]), ("degraded", [FAULT]), ("down", [FAULT]), ("healthy", [DECLINED])],
)
def test_a_status_that_stays_costs_one_update(settings, before, batch, django_assert_num_queries):
    settings.PATCHBAY_HEALTH_DOWN_THRESHOLD = 5
    failures = {"healthy": 0, "degraded": 1, "down": 6}[before]
    ExternalService.objects.update_or_create(
        provider="dummy", defaults={"health_status": before, "consecutive_failures": failures}
    )
    health_module._last_seen["dummy"] = before  # this process saw it last
    with django_assert_num_queries(1):
        record_outcomes("dummy", batch)
    assert ExternalService.objects.get(provider="dummy").health_status == before
