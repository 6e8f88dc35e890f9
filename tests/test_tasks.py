"""patchbay.core.tasks: the shim over Django's Tasks framework (immediate backend here)."""

from __future__ import annotations

import logging

import pytest
from django.db import DatabaseError, transaction
from django.utils.module_loading import import_string

from patchbay.core import tasks
from patchbay.core.tasks import enqueue_on_commit, task

RUNS: list[tuple[object, ...]] = []


@task
def remember(value, *, label=""):
    RUNS.append((value, label))
    return value


@task
def explode():
    raise RuntimeError("the task failed")


@pytest.fixture(autouse=True)
def _clear_runs():
    RUNS.clear()


def test_a_task_called_directly_runs_here():
    assert remember(3, label="direct") == 3
    assert RUNS == [(3, "direct")]


def test_enqueue_runs_on_the_immediate_backend():
    result = remember.enqueue(4, label="queued")

    assert RUNS == [(4, "queued")]
    assert result.status == "SUCCESSFUL"


def test_a_worker_finds_the_framework_task_by_its_stored_path():
    framework_task = remember.framework_task()

    found = import_string(framework_task.module_path)

    assert found is framework_task
    assert framework_task.module_path.startswith("patchbay.core.tasks.task:")


def test_the_path_resolves_before_the_defining_module_registered_it(monkeypatch):
    framework_task = remember.framework_task()
    monkeypatch.delitem(tasks._TASKS, remember.name)
    monkeypatch.delitem(__import__("sys").modules, __name__)

    found = import_string(framework_task.module_path)

    assert found.func.__name__ == remember.name  # re-registered by importing this module


def test_an_unknown_task_path_is_an_import_error():
    with pytest.raises(ImportError):
        import_string("patchbay.core.tasks.task:tests:nowhere:nothing")
    with pytest.raises(ImportError):
        import_string("patchbay.core.tasks.not_a_task")


def test_a_function_not_at_module_level_is_refused():
    def local():
        pass

    with pytest.raises(ValueError, match="module-level"):
        task(local)


def test_without_a_framework_an_enqueued_task_runs_inline(monkeypatch):
    monkeypatch.setattr(tasks, "framework", lambda: None)
    monkeypatch.setattr(remember, "_framework_task", None)

    assert remember.enqueue(5) is None
    assert RUNS == [(5, "")]


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_the_commit():
    with transaction.atomic():
        enqueue_on_commit(remember, 6)
        assert RUNS == []
    assert RUNS == [(6, "")]


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_after_a_rollback_enqueues_nothing():
    with transaction.atomic():
        enqueue_on_commit(remember, 7)
        transaction.set_rollback(True)
    assert RUNS == []


@pytest.mark.django_db(transaction=True)
def test_a_backend_that_refuses_the_job_is_logged_never_raised(monkeypatch, caplog):
    class Down:
        def enqueue(self, *args, **kwargs):
            raise ConnectionError("broker at 127.0.0.1:1 refused the connection")

    monkeypatch.setattr(remember, "_framework_task", Down())

    with caplog.at_level(logging.ERROR, logger="patchbay.tasks"):
        enqueue_on_commit(remember, 8)

    assert RUNS == []
    assert "Could not enqueue" in caplog.text


def test_a_failing_task_on_the_immediate_backend_does_not_raise_at_the_caller():
    result = explode.enqueue()

    assert result.status == "FAILED"


@pytest.fixture
def database_queue(settings):
    """django-tasks-db as the backend: its jobs are rows of the test database."""
    pytest.importorskip("django_tasks_db")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects


@pytest.mark.django_db(transaction=True)
def test_a_queue_in_the_same_database_gets_the_job_inside_the_transaction(database_queue):
    with transaction.atomic():
        enqueue_on_commit(remember, 9)
        # In the caller's transaction, committed with its rows: no second commit.
        assert database_queue.count() == 1

    assert database_queue.count() == 1
    assert RUNS == []  # a worker runs it


@pytest.mark.django_db(transaction=True)
def test_a_job_in_the_transaction_is_rolled_back_with_it(database_queue):
    with transaction.atomic():
        enqueue_on_commit(remember, 10)
        transaction.set_rollback(True)

    assert database_queue.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_job_refused_before_its_insert_is_logged_and_the_caller_commits(
    database_queue, monkeypatch, caplog
):
    from django.contrib.auth.models import Group
    from django_tasks_db.backend import DatabaseBackend

    def refuse(self, task, args, kwargs):
        raise ValueError("arguments the queue cannot store")

    monkeypatch.setattr(DatabaseBackend, "enqueue", refuse)

    with caplog.at_level(logging.ERROR, logger="patchbay.tasks"), transaction.atomic():
        Group.objects.create(name="kept")
        enqueue_on_commit(remember, 11)

    assert Group.objects.filter(name="kept").exists()
    assert database_queue.count() == 0
    assert "Could not enqueue" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_insert_fails_fails_the_callers_transaction(database_queue, monkeypatch):
    from django.contrib.auth.models import Group

    monkeypatch.setattr(database_queue.model._meta, "db_table", "no_such_queue_table")

    def store_and_enqueue():
        with transaction.atomic():
            Group.objects.create(name="rolled back")
            enqueue_on_commit(remember, 12)

    with pytest.raises(DatabaseError):
        store_and_enqueue()

    assert not Group.objects.filter(name="rolled back").exists()
