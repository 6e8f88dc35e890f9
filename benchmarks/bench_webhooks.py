"""Figure 3: webhook throughput under gunicorn, patchbay's endpoint vs a bare view.

gunicorn (2 sync workers) serves ``benchmarks._webhook_site`` on PostgreSQL
with Redis as cache. A load generator in its own process sends correctly
signed Stripe events, 4 at a time, in rounds that rotate over four streams:
first deliveries to patchbay's endpoint (verify, store, dispatch, record,
respond), the baseline (a view that only verifies the signature), redeliveries
of one already processed event, and, to show what storing an event costs by
itself here, the baseline plus one INSERT. Each round of each stream is
bounded in count and time; the figures are medians over the rounds, after a
warm-up. Afterwards the stored events are counted: each must have run once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from benchmarks import _pg
from benchmarks.common import Figure, reachable, redis_url, scratch_database

ROOT = Path(__file__).resolve().parent.parent
DATABASE = scratch_database("webhooks")
SECRET = "whsec_benchmark_" + "0" * 24
WEBHOOK_PATH = "/integrations/webhooks/stripe/"
BARE_PATH = "/bare/"
FLOOR_PATH = "/floor/"
CONCURRENCY = 4
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _redis_url() -> str:
    # The benchmarks' second Redis database is figure 3's; without a Redis server the
    # site falls back to local memory.
    url = redis_url(1)
    return url if reachable(url) else ""


def _site_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks._webhook_site",
        "BENCH_DATABASE_URL": database_url,
        "BENCH_REDIS_URL": redis_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[int]:
    """Serve the benchmark site on a free port; stopped (the whole group) on exit."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "django.core.wsgi:get_wsgi_application()",
    ]
    # Its own session, so stopping it reaches the workers even if the master is stuck.
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        _wait_ready(server, port)
        yield port
    finally:
        _stop(server)


def _wait_ready(server: subprocess.Popen[bytes], port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode} before serving")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready/", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        with suppress(subprocess.TimeoutExpired):
            server.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # whatever is left of the group
    server.wait()


def _plan(port: int, quick: bool, token: str) -> dict[str, Any]:
    """Warm-up, then rounds of every stream in rotating order."""
    rounds, count, seconds = (3, 100, 3.0) if quick else (5, 400, 6.0)
    duplicate_id = f"evt_{token}_duplicate"
    streams = {
        "bare": {"path": BARE_PATH, "ids": "unique", "event_id": f"evt_{token}_bare"},
        "floor": {"path": FLOOR_PATH, "ids": "unique", "event_id": f"evt_{token}_floor"},
        "patchbay": {"path": WEBHOOK_PATH, "ids": "unique", "event_id": f"evt_{token}_first"},
        "duplicate": {"path": WEBHOOK_PATH, "ids": "duplicate", "event_id": duplicate_id},
    }
    warm = 30 if quick else 100
    phases: list[dict[str, Any]] = [
        # The first delivery of the event the duplicate stream repeats.
        {"name": "warmup", "path": WEBHOOK_PATH, "ids": "duplicate", "event_id": duplicate_id,
         "count": 1, "seconds": 10},
        *(
            {**stream, "name": "warmup", "event_id": f"{stream['event_id']}_w", "count": warm,
             "seconds": 10}
            for name, stream in streams.items() if name != "duplicate"
        ),
    ]  # fmt: skip
    names = list(streams)
    for index in range(rounds):
        # Rotating the order keeps any drift (table growth, autovacuum) off one stream.
        for name in names[index % len(names) :] + names[: index % len(names)]:
            stream = streams[name]
            event_id = stream["event_id"] + (f"_r{index}" if stream["ids"] == "unique" else "")
            phases.append(
                {**stream, "name": name, "event_id": event_id, "count": count, "seconds": seconds}
            )
    return {
        "host": "127.0.0.1",
        "port": port,
        "secret": SECRET,
        "concurrency": CONCURRENCY,
        "phases": phases,
    }


def _load(plan: dict[str, Any]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks._webhook_load"],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    if completed.returncode:
        raise RuntimeError(f"the load generator failed:\n{completed.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


def _stored_events(database_url: str) -> dict[str, int]:
    """Stored WebhookEvent rows by status: every delivery must have run once."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT status, count(*), max(attempts) FROM patchbay_webhookevent"
            " WHERE provider = 'stripe' GROUP BY status"
        ).fetchall()
    return {
        **{str(status): int(count) for status, count, _ in rows},
        "max_attempts": max((int(attempts) for _, _, attempts in rows), default=0),
    }


def measure(quick: bool) -> dict[str, Any]:
    """Raw results: per-phase answers of the load generator and the stored events."""
    url = _pg.create_database(DATABASE)
    try:
        env = _site_env(url, _redis_url())
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        with gunicorn(env) as port:
            phases = _load(_plan(port, quick, uuid.uuid4().hex[:8]))
        stored = _stored_events(url)
    finally:
        _pg.drop_database(DATABASE)
    return {"phases": phases, "stored": stored, "redis": bool(env["BENCH_REDIS_URL"])}


def figures(raw: dict[str, Any]) -> list[Figure]:
    phases = raw["phases"]
    measured = [phase for phase in phases if phase["name"] != "warmup"]

    def median_rps(name: str) -> float:
        return statistics.median(phase["rps"] for phase in measured if phase["name"] == name)

    bare, floor = median_rps("bare"), median_rps("floor")
    first, duplicate = median_rps("patchbay"), median_rps("duplicate")
    sent = sum(phase["requests"] for phase in phases)
    non_2xx = sum(phase["non_2xx"] for phase in phases)
    rounds = sum(1 for phase in measured if phase["name"] == "bare")
    setup = (
        f"gunicorn {WORKERS} sync workers, PostgreSQL"
        f"{', Redis cache' if raw['redis'] else ', local-memory cache (no Redis)'}, "
        f"{CONCURRENCY} concurrent connections, median of {rounds} rounds"
    )
    stored = raw["stored"]
    # Every first delivery (warm-up included) plus the one event the duplicates repeat.
    delivered = 1 + sum(
        phase["requests"]
        for phase in phases
        if phase["path"] == WEBHOOK_PATH and phase["ids"] == "unique"
    )
    return [
        Figure(
            name="Webhook throughput (Stripe)",
            baseline="bare view verifying the signature",
            baseline_value=bare,
            value=first,
            unit="req/s",
            ratio=first / bare,
            target=">= 0.7x the bare view",
            met=first / bare >= 0.7,
            notes=(
                f"{setup}; the bare view plus one INSERT of the event alone: {floor:.0f} req/s "
                f"({floor / bare:.2f}x the bare view); events stored and processed once: "
                f"{stored.get('processed', 0)} of {delivered}"
            ),
        ),
        Figure(
            name="Webhook duplicate deliveries",
            baseline="first deliveries",
            baseline_value=first,
            value=duplicate,
            unit="req/s",
            ratio=duplicate / first,
            target=">= 1.0x first deliveries",
            met=duplicate >= first,
            notes=(
                "one processed event redelivered; most handler runs of one event: "
                f"{stored['max_attempts']}"
            ),
        ),
        Figure(
            name="Webhook non-2xx answers",
            baseline="requests sent",
            baseline_value=float(sent),
            value=float(non_2xx),
            unit="answers",
            ratio=non_2xx / sent if sent else 0.0,
            target="0",
            met=non_2xx == 0,
            notes="every request of every stream, warm-up included",
        ),
    ]


def run(quick: bool) -> list[Figure]:
    reason = _pg.available()
    if importlib.util.find_spec("gunicorn") is None:
        reason = "gunicorn is not installed (it is in the bench dependency group)"
    if reason:
        return [Figure.skipped("Webhook throughput (Stripe)", reason, ">= 0.7x the bare view")]
    return figures(measure(quick))
