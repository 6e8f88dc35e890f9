"""The maintenance tasks run the same code as the commands (their commands)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from patchbay import tasks
from patchbay.models import IntegrationLog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("task", "command", "options"),
    [
        (tasks.resume, "patchbay_resume", {}),
        (tasks.prune, "patchbay_prune", {}),
        (tasks.reap_uploads, "patchbay_reap_uploads", {}),
        (tasks.twilio_reconcile, "patchbay_twilio_reconcile", {}),
        (tasks.probe_services, "patchbay_status", {"probe": True}),
        (tasks.rebuild_rollups, "patchbay_rebuild_rollups", {"days": 1}),
    ],
)
def test_each_task_runs_its_command(monkeypatch, task, command, options):
    called = []
    monkeypatch.setattr(tasks, "call_command", lambda name, **kwargs: called.append((name, kwargs)))
    task()
    assert len(called) == 1
    name, kwargs = called[0]
    assert name == command
    assert {key: kwargs[key] for key in options} == options


def test_prune_deletes_what_the_command_deletes(settings, caplog):
    settings.PATCHBAY_LOG_RETENTION_DAYS = 1
    old = IntegrationLog.objects.create(provider="stripe", operation="x", success=True)
    IntegrationLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    caplog.set_level("INFO", logger="patchbay.tasks")
    tasks.prune.enqueue()
    assert not IntegrationLog.objects.filter(pk=old.pk).exists()
    assert "Deleted 1 integration logs" in caplog.text


def test_a_failing_command_fails_its_task(monkeypatch):
    def failing(name, **kwargs):
        raise CommandError("Health probe failed for: stripe.")

    monkeypatch.setattr(tasks, "call_command", failing)
    with pytest.raises(CommandError):
        tasks.probe_services()
