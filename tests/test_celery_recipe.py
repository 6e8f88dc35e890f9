"""docs/background.rst's Celery recipe (tests/celery_recipe.py), in Celery's eager mode."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from patchbay.core.signing import hmac_sha256_hex
from patchbay.models import WebhookEvent
from patchbay.webhooks import receiver
from patchbay.webhooks.registry import disconnect
from tests.webhook_views import SECRET

celery = pytest.importorskip("celery")
celery_recipe = pytest.importorskip("tests.celery_recipe")

pytestmark = [pytest.mark.urls("tests.webhook_views"), pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _on_celery(settings):
    """The recipe's backend on a Celery app that runs each task as it is sent."""
    app = celery.Celery("recipe", set_as_current=True)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    settings.TASKS = {"default": {"BACKEND": "tests.celery_recipe.CeleryBackend"}}
    settings.PATCHBAY_WEBHOOK_PROCESSING = "background"
    settings.PATCHBAY_WEBHOOK_MAX_ATTEMPTS = 3


@pytest.fixture
def handled():
    seen = []

    def handler(event):
        seen.append(event.event_id)
        if event.payload.get("fail"):
            raise RuntimeError("the handler failed")

    receiver("pipeline", "thing.happened")(handler)
    yield seen
    disconnect("pipeline", "thing.happened", handler)


def deliver(client, **payload):
    body = json.dumps({"id": "evt_celery", "type": "thing.happened", **payload}).encode()
    return client.post(
        "/hook/",
        data=body,
        content_type="application/json",
        headers={"X-Signature": hmac_sha256_hex(SECRET, body)},
    )


def test_a_webhook_is_answered_then_run_by_a_celery_task(
    client, handled, django_capture_on_commit_callbacks
):
    with mock.patch.object(
        celery_recipe.run_task, "apply_async", wraps=celery_recipe.run_task.apply_async
    ) as sent:
        with django_capture_on_commit_callbacks() as callbacks:
            response = deliver(client)
        assert response.json() == {"status": "received", "duplicate": False}
        assert handled == []  # not in the request
        callbacks[0]()  # the commit: the job goes to Celery, which (eagerly) runs it

    assert sent.call_count == 1
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("processed", 1)
    assert handled == ["evt_celery"]


def test_a_failed_run_is_retried_by_a_celery_task_due_at_the_next_attempt(
    client, handled, django_capture_on_commit_callbacks
):
    with mock.patch.object(celery_recipe.run_task, "apply_async") as sent:
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, fail=True)
        (first_args,), first = sent.call_args_list[0]
        assert first["eta"] is None
        celery_recipe.run_task(*first_args)  # what the worker does with it

    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("failed", 1)
    (_, retry) = sent.call_args_list[1]
    assert retry["eta"] == event.next_attempt_at > timezone.now()


def test_beat_runs_the_resume_which_hands_a_stranded_event_to_celery(client, handled):
    deliver(client)  # its job is lost: the test's transaction never commits
    WebhookEvent.objects.update(updated_at=timezone.now() - timedelta(minutes=5))

    assert celery_recipe.patchbay_maintenance.delay("resume_webhooks").get() == 1

    assert WebhookEvent.objects.get().status == "processed"
    assert handled == ["evt_celery"]


def test_beat_runs_the_maintenance_commands():
    assert celery_recipe.patchbay_maintenance.delay("prune").successful()


def test_the_documented_beat_schedule_runs_every_maintenance_task_the_recipe_has():
    docs = (Path(__file__).resolve().parent.parent / "docs" / "background.rst").read_text()
    schedule = docs[docs.index("CELERY_BEAT_SCHEDULE") :]
    names = re.findall(r'\("(\w+)", [0-9.]+\),', schedule)

    assert sorted(names) == sorted(celery_recipe.MAINTENANCE)
