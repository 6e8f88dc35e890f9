"""patchbay.core.deferred: work that runs after the response, never inside it."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from patchbay.core import deferred

DONE: list[str] = []


def record(value: str) -> None:
    DONE.append(value)


def explode(value: str) -> None:
    raise RuntimeError(f"job failed: {value}")


@login_not_required
def schedule_view(request):
    deferred.run_after_response(record, "first")
    deferred.run_after_response(explode, "second")
    deferred.run_after_response(record, "third")
    return HttpResponse(",".join(DONE) or "nothing yet")


urlpatterns = [path("schedule/", schedule_view)]


@pytest.fixture(autouse=True)
def _clean():
    DONE.clear()
    yield
    DONE.clear()


def test_outside_a_request_the_job_runs_at_once():
    deferred.run_after_response(record, "now")
    assert DONE == ["now"]


def test_in_a_scope_the_jobs_run_at_its_end_in_order(caplog):
    caplog.set_level(logging.ERROR, logger="patchbay")
    with deferred.after_response_scope():
        deferred.run_after_response(record, "a")
        deferred.run_after_response(explode, "b")
        deferred.run_after_response(record, "c")
        assert DONE == []
    assert DONE == ["a", "c"]  # a failing job neither raises nor stops the others
    assert "job failed: b" in caplog.text


@pytest.mark.urls(__name__)
def test_in_a_request_the_jobs_run_after_the_response(caplog):
    caplog.set_level(logging.ERROR, logger="patchbay")
    response = Client().get("/schedule/")

    assert response.content == b"nothing yet"
    assert DONE == ["first", "third"]
    assert "job failed: second" in caplog.text


@pytest.mark.urls(__name__)
def test_each_request_runs_only_its_own_jobs():
    Client().get("/schedule/")
    Client().get("/schedule/")
    assert DONE == ["first", "third", "first", "third"]


@pytest.mark.parametrize(
    ("function", "arguments"),
    [(lambda: None, ()), (record, (object(),)), (record, ({"a": {1, 2}},))],
)
def test_only_importable_functions_and_plain_values(function, arguments):
    # What a task queue could store: the later move onto Django's Tasks needs nothing else.
    with pytest.raises(TypeError):
        deferred.run_after_response(function, *arguments)
    assert DONE == []
