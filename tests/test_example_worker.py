"""``python3 dev.py example --worker``: runserver with a db_worker beside it, stopped together.

The example is started as a developer starts it, on a database of its own; a
signed Stripe delivery is answered at once and the worker, not the request,
runs it; Ctrl+C (SIGINT to the terminal's process group) stops both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_example_project import ROOT

SECRET = "whsec_example_worker_test"
WAIT_SECONDS = 90

pytestmark = pytest.mark.skipif(os.name != "posix", reason="sends the terminal's Ctrl+C")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {WAIT_SECONDS} s: {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (our server)
            return bool(response.status == 200)
    except OSError:
        return False


def deliver(port: int, event: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(event).encode()
    timestamp = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/integrations/webhooks/stripe/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        answer: dict[str, Any] = json.load(response)
    return answer


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database, timeout=20) as connection:
        return connection.execute(sql).fetchall()


def worker_processes(database: Path) -> list[int]:
    """Pids of db_worker processes of the example on ``database`` (from /proc)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes()
            environment = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"db_worker" in command and str(database).encode() in environment:
            found.append(int(proc.name))
    return found


def still_running(dev: subprocess.Popen[bytes]) -> list[str]:
    """The command lines of dev.py's session that are still alive (for a failure's message)."""
    alive = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.getsid(int(proc.name)) != dev.pid:
                continue
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().split(") ", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        alive.append(f"{proc.name} [{state}] {command.strip()}")
    return alive


@pytest.fixture
def example_with_worker(tmp_path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    if not Path("/proc/self/environ").exists():
        pytest.skip("finds the worker process through /proc")
    pytest.importorskip("django_tasks_db")
    database = tmp_path / "db.sqlite3"
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "PATCHBAY_SIMULATE"}
    }
    env.update(DATABASE_URL=f"sqlite:///{database}", DEBUG="true", STRIPE_WEBHOOK_SECRET=SECRET)
    log = tmp_path / "dev.log"
    # A program started from a terminal has SIGINT at its default. A suite started in the
    # background of a non-interactive shell (`cmd &`, nohup) inherits it ignored, and dev.py
    # would inherit that and sleep through the Ctrl+C below: give the child the default
    # (a Python handler here becomes the default across exec).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with log.open("wb") as output:
            # A session of its own, as a terminal's: Ctrl+C goes to all its foreground group.
            dev = subprocess.Popen(  # noqa: S603  (our interpreter, our script)
                [sys.executable, "dev.py", "example", "--worker", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        yield dev, port, database
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait()
        for pid in worker_processes(database):
            os.kill(pid, signal.SIGKILL)
        print(log.read_text(errors="replace")[-4000:])


def test_a_webhook_is_answered_at_once_and_processed_by_the_worker(example_with_worker):
    _dev, port, database = example_with_worker
    wait_for(lambda: answers(f"http://127.0.0.1:{port}/"), "the example answering")
    assert worker_processes(database), "no db_worker process started"

    answer = deliver(
        port,
        {
            "id": "evt_example_worker",
            "object": "event",
            "type": "customer.created",
            "created": int(time.time()),
            "data": {"object": {"id": "cus_example_worker", "object": "customer"}},
        },
    )

    assert answer == {"status": "received", "duplicate": False}  # stored, not run
    status = wait_for(
        lambda: rows(
            database,
            "SELECT status, attempts FROM patchbay_webhookevent"
            " WHERE event_id = 'evt_example_worker' AND processed_at IS NOT NULL",
        ),
        "the worker running the event",
    )
    assert status == [("ignored", 1)]  # no handler for customer.created: done, once
    assert rows(database, "SELECT status FROM django_tasks_database_dbtaskresult") == [
        ("SUCCESSFUL",)
    ]


def test_ctrl_c_stops_runserver_and_the_worker(example_with_worker):
    dev, port, database = example_with_worker
    wait_for(lambda: answers(f"http://127.0.0.1:{port}/"), "the example answering")
    wait_for(lambda: worker_processes(database), "the db_worker process")

    os.killpg(dev.pid, signal.SIGINT)  # Ctrl+C in the terminal

    # dev.py gives the worker 10 s to stop on SIGTERM, then kills it.
    try:
        code = dev.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"dev.py still running 60 s after Ctrl+C; processes: {still_running(dev)}")
    assert code != 0
    assert not answers(f"http://127.0.0.1:{port}/")
    wait_for(lambda: not worker_processes(database), "the db_worker process gone")
