"""Real worker processes for the tests marked ``worker``: started here, stopped here.

``db_worker`` (django-tasks-db) needs PostgreSQL, as the worker shares the test
database; ``rqworker`` (django-tasks-rq) needs PostgreSQL and Redis. Each test asks
for a starter (the ``start_worker`` / ``start_rqworker`` fixtures) and calls it once
per process it wants; every process is terminated (killed if it does not stop) when
the test ends, and its log is printed so that a failing test shows it. The workers
run with tests/worker_settings.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 60

DB_WORKER = ("-m", "django", "db_worker", "--interval", "0.1")
RQ_WORKER = (
    *("-m", "django", "rqworker", "default", "--with-scheduler"),
    *("--job-class", "django_tasks_rq.backend.Job"),
)


class WorkerProcesses:
    """The worker processes one test started, each logging to a file of its own."""

    def __init__(self, command: tuple[str, ...], env: dict[str, str], log_dir: Path):
        self.command = command
        self.env = env
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, **settings: object) -> subprocess.Popen[bytes]:
        """Start one more process; ``settings`` override tests/worker_settings.py in it."""
        env = {**self.env, "PATCHBAY_WORKER_SETTINGS": json.dumps(settings)}
        with (self.log_dir / f"worker{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(  # noqa: S603  (our interpreter, our arguments)
                [sys.executable, *self.command],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for log in sorted(self.log_dir.glob("worker*.log")):
            print(log.name, log.read_text(errors="replace")[-3000:])
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def worker_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "PATCHBAY_WORKER_DB_NAME": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
        **extra,
    }


@pytest.fixture
def start_worker(settings, tmp_path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start db_worker processes on the test database (PostgreSQL)."""
    if connection.vendor != "postgresql":
        pytest.skip("db_worker processes share the test database: needs PostgreSQL")
    pytest.importorskip("django_tasks_db")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.PATCHBAY_WEBHOOK_PROCESSING = "background"
    workers = WorkerProcesses(DB_WORKER, worker_env(), tmp_path)
    yield workers.start
    workers.stop()


@pytest.fixture
def rq_url(settings) -> str:
    """The Redis of the run, as the RQ queue of the test process."""
    if connection.vendor != "postgresql" or not django_settings.REDIS_URL:
        pytest.skip("rqworker processes share the test database and Redis: needs both")
    pytest.importorskip("django_tasks_rq")
    url: str = django_settings.REDIS_URL
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django_rq"]
    settings.RQ_QUEUES = {"default": {"URL": url}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    settings.PATCHBAY_WEBHOOK_PROCESSING = "background"
    return url


@pytest.fixture
def start_rqworker(rq_url, tmp_path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start rqworker processes on the test database and the run's Redis."""
    env = worker_env(PATCHBAY_WORKER_ENGINE="rq", PATCHBAY_WORKER_RQ_URL=rq_url)
    workers = WorkerProcesses(RQ_WORKER, env, tmp_path)
    yield workers.start
    workers.stop()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {WAIT_SECONDS} s: {what}")
