"""Real processes for the tests marked ``worker``: task workers and a live server.

``db_worker`` (django-tasks-db) needs PostgreSQL, as the worker shares the test
database; ``rqworker`` (django-tasks-rq) needs PostgreSQL and Redis. A test asks
for an engine (``db_engine``, ``rq_engine``, or ``engine`` for a test run on
both) and starts through it the worker processes it wants and, if it posts over
HTTP, a gunicorn server (:meth:`Engine.start_server`) enqueueing on that engine;
a worker may be given settings of its own (:meth:`Engine.start_worker`). Every
process runs in a session of its own, so that stopping or killing it takes its
children too (rqworker's work horse, gunicorn's workers); all are stopped when
the test ends, and their logs printed so that a failing test shows them. They
run with tests/worker_settings.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 60
PROC = Path("/proc")

DB_WORKER = ("-m", "django", "db_worker", "--interval", "0.1")
RQ_WORKER = (
    *("-m", "django", "rqworker", "default", "--with-scheduler"),
    *("--job-class", "django_tasks_rq.backend.Job"),
)
SERVER_PROCESSES = 2
# One access log line per request, naming the server process that answered it.
ACCESS_LOG_FORMAT = "access %(p)s %(m)s %(U)s %(s)s"
ACCESS_LINE = re.compile(r"^access <(\d+)> (\S+) (\S+) (\d+)$", re.MULTILINE)
GUNICORN = (
    *("-m", "gunicorn", "--workers", str(SERVER_PROCESSES), "--graceful-timeout", "5"),
    # Django is loaded before the fork: the processes serve as soon as the first does.
    "--preload",
    # Nothing in $HOME: the runtime control socket is not needed here.
    "--no-control-socket",
    *("--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT),
)
WSGI_APP = "django.core.wsgi:get_wsgi_application()"


class Processes:
    """The processes one test started, each logging to a file of its own."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.logs: dict[subprocess.Popen[bytes], Path] = {}

    def start(
        self,
        name: str,
        command: tuple[str, ...],
        env: dict[str, str],
        pass_fds: tuple[int, ...] = (),
    ) -> subprocess.Popen[bytes]:
        """Start ``command`` on our interpreter, its log named after ``name``."""
        log_path = self.log_dir / f"{len(self.logs)}-{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603  (our interpreter, our arguments)
                [sys.executable, *command],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=pass_fds,
                start_new_session=True,
            )
        self.logs[process] = log_path
        return process

    def stop(self) -> None:
        for log in self.logs.values():
            print(log.name, log.read_text(errors="replace")[-3000:])
        for process in self.logs:
            signal_session(process, signal.SIGTERM)
        for process in self.logs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            # Whatever outlived it too (rqworker's horse finishing its job, say).
            kill_hard(process)


def session(process: subprocess.Popen[bytes]) -> list[int]:
    """The pids of ``process`` and the processes it started, all in its session.

    A session rather than a process group: rqworker's work horse moves to a group of
    its own, and stays in the session.
    """
    if not PROC.is_dir():  # not Linux: the process itself, which stops what it started
        return [process.pid]
    members = []
    for entry in os.listdir(PROC):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == process.pid:
                    members.append(int(entry))
            except ProcessLookupError:  # exited meanwhile
                continue
    return members


def signal_session(process: subprocess.Popen[bytes], signum: int) -> None:
    for pid in session(process):
        with contextlib.suppress(ProcessLookupError):  # exited meanwhile
            os.kill(pid, signum)


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``process`` and what it started, at once, as a machine dying would."""
    signal_session(process, signal.SIGKILL)
    process.wait()


@dataclass
class LiveServer:
    """A gunicorn server of :data:`SERVER_PROCESSES` processes on 127.0.0.1."""

    url: str
    log: Path

    def answering_processes(self, method: str, path: str) -> set[str]:
        """The pids of the server processes that answered ``method path`` at least once."""
        lines = ACCESS_LINE.findall(self.log.read_text(errors="replace"))
        return {pid for pid, m, p, _status in lines if (m, p) == (method, path)}


@dataclass
class Engine:
    """A Tasks engine as a test drives it: its worker processes and a live server."""

    worker_command: tuple[str, ...]
    env: dict[str, str]
    processes: Processes

    def start_worker(self, **settings: object) -> subprocess.Popen[bytes]:
        """Start one more worker; ``settings`` override tests/worker_settings.py in it."""
        env = {**self.env, "PATCHBAY_WORKER_SETTINGS": json.dumps(settings)}
        return self.processes.start("worker", self.worker_command, env)

    def start_server(self, *, broker_down: bool = False) -> LiveServer:
        """Serve the test database on a free port, enqueueing on this engine; once it answers.

        ``broker_down``: the server's engine points at a broker that is down (nothing
        listens), the workers' and the test's at the real one.
        """
        env = {**self.env, "PATCHBAY_WORKER_BROKER_DOWN": "1" if broker_down else ""}
        name = "server-broker-down" if broker_down else "server"
        # Bound here and handed over, so the port is ours from the start (no race for a
        # free one); gunicorn's processes share this socket.
        with socket.create_server(("127.0.0.1", 0)) as listener:
            fd = listener.fileno()
            command = (*GUNICORN, "--bind", f"fd://{fd}", WSGI_APP)
            process = self.processes.start(name, command, env, pass_fds=(fd,))
            url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        wait_until(lambda: answers(process, url), f"the {name} answering at {url}")
        return LiveServer(url=url, log=self.processes.logs[process])


def answers(process: subprocess.Popen[bytes], url: str) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"the server exited with {process.returncode} before answering")
    import requests  # here: the no-extras venv loads this plugin without requests

    try:
        requests.get(f"{url}/hook/", timeout=5)  # any answer (the endpoint's is a 405)
    except requests.RequestException:  # not serving yet (the socket queues connections)
        return False
    return True


def worker_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "PATCHBAY_WORKER_DB_NAME": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
        **extra,
    }


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    """The processes of this test, stopped when it ends."""
    started = Processes(tmp_path)
    yield started
    started.stop()


@pytest.fixture
def db_engine(settings, processes) -> Engine:
    """django-tasks-db on the test database (PostgreSQL), here and in the processes."""
    if connection.vendor != "postgresql":
        pytest.skip("db_worker processes share the test database: needs PostgreSQL")
    pytest.importorskip("django_tasks_db")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.PATCHBAY_WEBHOOK_PROCESSING = "background"
    return Engine(DB_WORKER, worker_env(), processes)


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
def rq_engine(rq_url, processes) -> Engine:
    """django-tasks-rq on the run's Redis, here and in the processes."""
    env = worker_env(PATCHBAY_WORKER_ENGINE="rq", PATCHBAY_WORKER_RQ_URL=rq_url)
    return Engine(RQ_WORKER, env, processes)


@pytest.fixture(params=["db_engine", "rq_engine"], ids=["db_worker", "rqworker"])
def engine(request) -> Engine:
    """Each engine in turn: a test asking for it runs once on each."""
    found: Engine = request.getfixturevalue(request.param)
    return found


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {WAIT_SECONDS} s: {what}")
