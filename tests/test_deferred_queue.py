"""Deferred work on a real task backend: the request enqueues, a worker makes the call."""

from __future__ import annotations

import pytest

from patchbay.core import deferred
from patchbay.loops import login
from patchbay.models import LoginToken
from patchbay.tasks import run_deferred

pytestmark = pytest.mark.django_db

DONE: list[str] = []


def record(value: str) -> None:
    DONE.append(value)


@pytest.fixture
def queue(monkeypatch):
    """A real backend: what the request enqueues, kept for the 'worker' to run."""
    enqueued: list[tuple[object, tuple[object, ...]]] = []
    monkeypatch.setattr(deferred, "queued", lambda: True)
    monkeypatch.setattr(
        "patchbay.core.tasks.enqueue_on_commit",
        lambda task_obj, *args: enqueued.append((task_obj, args)),
    )
    DONE.clear()
    return enqueued


def test_the_call_is_enqueued_not_made(queue):
    with deferred.after_response_scope():
        deferred.run_after_response(record, "sent")
    assert DONE == []
    assert queue == [(run_deferred, (f"{__name__}.record", ["sent"], {}))]
    task_obj, args = queue[0]
    task_obj(*args)  # the worker
    assert DONE == ["sent"]


def test_only_a_real_backend_queues(settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert deferred.queued() is False
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    monkeypatch.setattr(deferred, "_importable", lambda name: False)
    assert deferred.queued() is False  # no framework installed: the work stays after the response
    monkeypatch.setattr(deferred, "_importable", lambda name: name == "django_tasks")
    assert deferred.queued() is True
    del settings.TASKS
    assert deferred.queued() is False


def test_a_stored_call_must_still_be_a_module_level_function():
    with pytest.raises(TypeError):
        run_deferred("patchbay.core.deferred.logger", [], {})


@pytest.fixture
def simulated(settings):
    settings.PATCHBAY_SIMULATE = True
    settings.LOOPS_TRANSACTIONAL_IDS = {"login_code": "tpl_login"}


def test_a_sign_in_request_does_the_same_work_for_any_address(queue, simulated, django_user_model):
    django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    known = login.send_login_link_to_address("ada@example.com")
    unknown = login.send_login_link_to_address("nobody@example.com")
    assert known == unknown == {"success": True}
    assert [args[0] for _, args in queue] == [f"{login.__name__}._send_to_address"] * 2
    assert not LoginToken.objects.exists()  # nothing made in the request
    for task_obj, args in queue:
        task_obj(*args)  # the worker makes the token and sends the email
    assert LoginToken.objects.count() == 1
