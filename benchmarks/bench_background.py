"""Background processing: acknowledgement throughput, time to processed, drain rate.

Figure 3's machinery (gunicorn, 2 sync workers, PostgreSQL, Redis as cache, the
load generator of :mod:`benchmarks._webhook_load`) with the settings of
:mod:`benchmarks._background_site`, on one throw-away database:

1. **Acknowledgement.** Two servers run side by side, one in background mode
   (django-tasks-db as the Tasks backend, so each delivery enqueues its run on
   commit, an INSERT in the same database) and one inline; rounds rotate over
   the floor (the background server's view that verifies the signature, then
   sends BEGIN, INSERTs the event and COMMITs), the same view with its INSERT
   autocommitted, background deliveries and inline deliveries. Every stream
   posts the same ``balance.available`` events as the webhook benchmark
   (:mod:`benchmarks.bench_webhooks`), which carries the comparison with
   dj-stripe. No worker runs meanwhile: on this 2-core machine a worker would take
   its CPU from the server, and the figure is what the endpoint does.
   Afterwards 2 ``db_worker`` processes drain the stored events, each of
   which must have run exactly once.
2. **Time to processed.** For each backend (``db_worker`` polling PostgreSQL
   every 0.1 s; ``rqworker`` on Redis) with 1 and 2 worker processes started
   here, events are posted one at a time at a steady rate; the time from the
   POST to the event's ``processed_at``, p50 and p99.
3. **Drain rate.** Events stored with their jobs enqueued while no worker
   runs, then 1 or 2 worker processes started; the rate at which the middle
   80 % of them were processed (leaving out the workers' start-up and the last
   stragglers), and the 2-vs-1 ratio.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from benchmarks import _pg
from benchmarks._webhook_load import send, signed_request
from benchmarks.bench_webhooks import (
    EVENT_TYPE,
    FLOOR_PATH,
    SECRET,
    TRANSACTION_FLOOR_PATH,
    WEBHOOK_PATH,
    WORKERS,
    _load,
    _site_env,
    gunicorn,
)
from benchmarks.common import Figure, call_in_subprocess, reachable, redis_url, scratch_database

ROOT = Path(__file__).resolve().parent.parent
DATABASE = scratch_database("background")
# The benchmarks' third Redis database is this benchmark's cache, the fourth its RQ
# queue (figure 3 has the second).
CACHE_URL = redis_url(2)
RQ_URL = redis_url(3)
WORKER_APP_NAME = "bench-worker"
POLL_SECONDS = 0.1
# The commands docs/background.rst gives, and RQ's SimpleWorker, which runs each job in the
# worker process itself instead of a child forked for it.
RQ_WORKER = (
    "rqworker",
    "default",
    "--with-scheduler",
    "--job-class",
    "django_tasks_rq.backend.Job",
)
WORKER_COMMANDS = {
    "db": ("db_worker", "--interval", str(POLL_SECONDS), "--no-startup-delay"),
    "rq": RQ_WORKER,
    "rq-simple": (*RQ_WORKER, "--worker-class", "rq.worker.SimpleWorker"),
}
NAMES = {
    "db": "db_worker (PostgreSQL)",
    "rq": "rqworker (Redis)",
    "rq-simple": "rqworker SimpleWorker (Redis)",
}
ACK_TARGET = 0.95
# Concurrent connections of the acknowledgement streams.
CONCURRENCY = 4
# The type every acknowledgement stream posts, the webhook benchmark's.
ACK_EVENT_TYPE = EVENT_TYPE
# Stored events per drain: the 10,000, but 1,000 for the forking rqworker, at
# ~0.1 s a job here 10,000 would take half an hour (a quick run skips it).
DRAIN_EVENTS = {"db": 10_000, "rq": 1_000, "rq-simple": 10_000}
QUICK_DRAIN_EVENTS = 60


def _env(database_url: str, *, processing: str, kind: str = "db") -> dict[str, str]:
    return {
        **_site_env(database_url, CACHE_URL),
        "DJANGO_SETTINGS_MODULE": "benchmarks._background_site",
        "BENCH_WEBHOOK_PROCESSING": processing,
        "BENCH_TASKS": kind.partition("-")[0],
        "BENCH_RQ_URL": RQ_URL,
    }


# -- worker processes --------------------------------------------------------------------------


@contextmanager
def workers(env: dict[str, str], kind: str, count: int) -> Iterator[None]:
    """``count`` worker processes of ``kind``; stopped (each whole group) on exit."""
    command = WORKER_COMMANDS[kind]
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "django", *command],
            cwd=ROOT,
            env={**env, "BENCH_APP_NAME": WORKER_APP_NAME},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in started:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _events(database_url: str, ids: Sequence[str]) -> dict[str, tuple[str, int, float | None]]:
    """Status, attempts and ``processed_at`` (a UNIX time) of the events ``ids``."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT event_id, status, attempts, extract(epoch FROM processed_at)"
            " FROM patchbay_webhookevent WHERE provider = 'stripe' AND event_id = ANY(%s)",
            (list(ids),),
        ).fetchall()
    return {
        str(event_id): (str(status), int(attempts), None if at is None else float(at))
        for event_id, status, attempts, at in rows
    }


def _wait_processed(
    database_url: str, ids: Sequence[str], timeout: float
) -> dict[str, tuple[str, int, float | None]]:
    deadline = time.monotonic() + timeout
    while True:
        events = _events(database_url, ids)
        done = [event for event in events.values() if event[0] == "processed"]
        if len(done) == len(ids) or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


# -- 1. acknowledgement ------------------------------------------------------------------------


def _ack_plan(background: int, inline: int, quick: bool, token: str) -> dict[str, Any]:
    rounds, count, seconds = (2, 80, 2.0) if quick else (5, 400, 6.0)
    streams = {
        "floor": {"port": background, "path": TRANSACTION_FLOOR_PATH},
        "autocommit": {"port": background, "path": FLOOR_PATH},
        "background": {"port": background, "path": WEBHOOK_PATH},
        "inline": {"port": inline, "path": WEBHOOK_PATH},
    }
    for stream in streams.values():
        stream["event_type"] = ACK_EVENT_TYPE
    warm = 20 if quick else 100
    phases: list[dict[str, Any]] = [
        {**stream, "name": "warmup", "ids": "unique", "event_id": f"evt_{token}_{name}_w",
         "count": warm, "seconds": 10}
        for name, stream in streams.items()
    ]  # fmt: skip
    names = list(streams)
    for index in range(rounds):
        # Rotating the order keeps any drift (table growth, autovacuum) off one stream.
        for name in names[index % len(names) :] + names[: index % len(names)]:
            phases.append(
                {
                    **streams[name],
                    "name": name,
                    "ids": "unique",
                    "event_id": f"evt_{token}_{name}_r{index}",
                    "count": count,
                    "seconds": seconds,
                }
            )
    return {
        "host": "127.0.0.1",
        "port": background,
        "secret": SECRET,
        "concurrency": CONCURRENCY,
        "phases": phases,
    }


def _background_ids(phases: list[dict[str, Any]], background_port: int) -> list[str]:
    """The event ids the background server was sent (the load generator numbers them)."""
    return [
        f"{phase['event_id']}_{index}"
        for phase in phases
        if phase["path"] == WEBHOOK_PATH and phase["port"] == background_port
        for index in range(phase["requests"])
    ]


def acknowledgement(database_url: str, quick: bool) -> dict[str, Any]:
    token = uuid.uuid4().hex[:8]
    background_env = _env(database_url, processing="background")
    with (
        gunicorn(background_env) as background,
        gunicorn(_env(database_url, processing="inline")) as inline,
    ):
        plan = _ack_plan(background, inline, quick, token)
        phases = _load(plan)
    for phase, planned in zip(phases, plan["phases"], strict=True):
        phase.update(port=planned["port"], event_id=planned["event_id"])
    ids = _background_ids(phases, background)
    began = time.monotonic()
    with workers(background_env, "db", 2):
        events = _wait_processed(database_url, ids, timeout=120 if quick else 600)
    return {
        "phases": phases,
        "quick": quick,
        "stored": len(events),
        "expected": len(ids),
        "processed_once": sum(
            1 for status, attempts, _ in events.values() if status == "processed" and attempts == 1
        ),
        "drained_in": time.monotonic() - began,
    }


# -- 2. time from POST to processed ------------------------------------------------------------


def _post_paced(port: int, ids: Sequence[str], rate: float) -> dict[str, float]:
    """POST each event at ``rate`` per second, one at a time; UNIX time each POST began."""
    sent: dict[str, float] = {}
    started = time.monotonic()
    for index, event_id in enumerate(ids):
        time.sleep(max(0.0, started + index / rate - time.monotonic()))
        request = signed_request("127.0.0.1", port, WEBHOOK_PATH, SECRET, event_id)
        sent[event_id] = time.time()
        status = send("127.0.0.1", port, request)
        if not 200 <= status < 300:
            raise RuntimeError(f"the endpoint answered {status} to {event_id}")
    return sent


def _percentile(sorted_values: Sequence[float], share: float) -> float:
    return sorted_values[round(share * (len(sorted_values) - 1))]


def latency(
    database_url: str, env: dict[str, str], port: int, kind: str, count: int, quick: bool
) -> dict[str, Any]:
    measured, warm, rate = (10, 5, 20.0) if quick else (300, 60, 20.0)
    token = uuid.uuid4().hex[:8]
    with workers(env, kind, count):
        # The warm-up also waits out the workers' start-up.
        warm_ids = [f"evt_{token}_lat_warm_{index}" for index in range(warm)]
        _post_paced(port, warm_ids, rate)
        _wait_processed(database_url, warm_ids, timeout=60)
        ids = [f"evt_{token}_lat_{index}" for index in range(measured)]
        sent = _post_paced(port, ids, rate)
        events = _wait_processed(database_url, ids, timeout=60)
    waits = sorted(
        (events[event_id][2] or 0.0) - sent[event_id]
        for event_id in ids
        if event_id in events and events[event_id][0] == "processed"
    )
    if len(waits) != len(ids):
        raise RuntimeError(f"{kind}, {count} workers: {len(waits)} of {len(ids)} processed")
    return {
        "p50_ms": statistics.median(waits) * 1000,
        "p99_ms": _percentile(waits, 0.99) * 1000,
        "events": len(waits),
        "rate": rate,
    }


# -- 3. drain rate -----------------------------------------------------------------------------


def store_with_jobs(count: int, prefix: str) -> list[str]:
    """Store ``count`` received events and enqueue a run of each (in a benchmark subprocess).

    Configured by the environment as the servers are; the events are created
    as a delivery stores them, and for the database backend their jobs commit
    with them, in batches.
    """
    import django

    django.setup()
    from django.db import transaction

    from patchbay.models import WebhookEvent
    from patchbay.webhooks.background import process_webhook_event

    ids = [f"{prefix}_{index}" for index in range(count)]
    task = process_webhook_event.framework_task()
    for start in range(0, count, 1000):
        with transaction.atomic():
            batch = WebhookEvent.objects.bulk_create(
                WebhookEvent(
                    provider="stripe",
                    event_id=event_id,
                    event_type="customer.created",
                    payload={"id": event_id, "type": "customer.created", "data": {}},
                    verified=True,
                    status=WebhookEvent.Status.RECEIVED,
                )
                for event_id in ids[start : start + 1000]
            )
            for event in batch:
                task.enqueue(event.pk)
    return ids


def drain(database_url: str, kind: str, count: int, events: int) -> dict[str, Any]:
    env = _env(database_url, processing="background", kind=kind)
    prefix = f"evt_{uuid.uuid4().hex[:8]}_drain"
    ids = call_in_subprocess(
        "benchmarks.bench_background",
        "store_with_jobs",
        {"count": events, "prefix": prefix},
        env=env,
        timeout=600,
    )
    with workers(env, kind, count):
        stored = _wait_processed(database_url, ids, timeout=900)
    times = sorted(at for status, _, at in stored.values() if status == "processed" and at)
    if len(times) != len(ids):
        raise RuntimeError(f"{kind}, {count} workers: {len(times)} of {len(ids)} processed")
    low, high = round(0.1 * (len(times) - 1)), round(0.9 * (len(times) - 1))
    return {
        "per_s": (high - low) / (times[high] - times[low]),
        "events": len(times),
        "once": sum(1 for status, attempts, _ in stored.values() if attempts == 1),
    }


# -- figures -----------------------------------------------------------------------------------


def measure(quick: bool) -> dict[str, Any]:
    import redis

    redis.Redis.from_url(RQ_URL).flushdb()  # no job left by an interrupted run
    url = _pg.create_database(DATABASE)
    try:
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=_env(url, processing="background"),
            check=True,
        )
        raw: dict[str, Any] = {"ack": acknowledgement(url, quick)}
        for kind in ("db", "rq"):
            env = _env(url, processing="background", kind=kind)
            with gunicorn(env) as port:
                for count in (1,) if quick else (1, 2):  # a smoke run: one start each
                    raw[f"latency_{kind}_{count}"] = latency(url, env, port, kind, count, quick)
        for kind in WORKER_COMMANDS:
            if quick and kind == "rq":
                continue  # too slow for a smoke run: see DRAIN_EVENTS
            events = QUICK_DRAIN_EVENTS if quick else DRAIN_EVENTS[kind]
            for count in (1, 2):
                raw[f"drain_{kind}_{count}"] = drain(url, kind, count, events)
    finally:
        _pg.drop_database(DATABASE)
    return raw


def _ack_figures(ack: dict[str, Any]) -> list[Figure]:
    measured = [phase for phase in ack["phases"] if phase["name"] != "warmup"]

    def median_rps(name: str) -> float:
        return statistics.median(phase["rps"] for phase in measured if phase["name"] == name)

    floor, background, inline = median_rps("floor"), median_rps("background"), median_rps("inline")
    autocommit = median_rps("autocommit")
    non_2xx = sum(phase["non_2xx"] for phase in ack["phases"])
    rounds = sum(1 for phase in measured if phase["name"] == "floor")
    setup = (
        f"gunicorn {WORKERS} sync workers, PostgreSQL, Redis cache, django-tasks-db, "
        f"{CONCURRENCY} concurrent connections, median of {rounds} rounds, no worker running"
    )
    return [
        Figure(
            name="Background ack throughput (Stripe)",
            baseline="floor: verify + BEGIN, one-row INSERT, COMMIT",
            baseline_value=floor,
            value=background,
            unit="req/s",
            ratio=background / floor,
            target=f">= {ACK_TARGET}x the floor",
            met=background / floor >= ACK_TARGET,
            notes=(
                f"{setup}; the floor's INSERT autocommitted (no BEGIN or COMMIT sent): "
                f"{autocommit:.0f} req/s, background {background / autocommit:.2f}x that; "
                f"non-2xx answers: {non_2xx}; afterwards 2 db_workers ran "
                f"{ack['processed_once']} of {ack['expected']} background deliveries exactly "
                f"once ({ack['stored']} stored) in {ack['drained_in']:.1f} s"
            ),
        ),
        Figure(
            name="Background ack vs inline",
            baseline="inline mode (handlers in the request)",
            baseline_value=inline,
            value=background,
            unit="req/s",
            ratio=background / inline,
            target="",
            met=None,
            notes="same rounds; the handler is a registered no-op, so inline pays patchbay's "
            "dispatch and bookkeeping only (the webhook benchmark compares inline with dj-stripe)",
        ),
    ]


def figures(raw: dict[str, Any]) -> list[Figure]:
    found = _ack_figures(raw["ack"])
    for kind in ("db", "rq"):
        for count in (1, 2):
            name = f"POST to processed, {NAMES[kind]}, {count} worker(s)"
            if f"latency_{kind}_{count}" not in raw:
                found.append(Figure.skipped(name, "quick run"))
                continue
            measured = raw[f"latency_{kind}_{count}"]
            found.append(
                Figure(
                    name=name,
                    baseline="p50",
                    baseline_value=measured["p50_ms"],
                    value=measured["p99_ms"],
                    unit="ms",
                    ratio=None,
                    target="",
                    met=None,
                    notes=(
                        f"value is p99; {measured['events']} events posted one at a time at "
                        f"{measured['rate']:.0f}/s"
                        + (f", db_worker polling every {POLL_SECONDS} s" if kind == "db" else "")
                    ),
                )
            )
    for kind in WORKER_COMMANDS:
        if f"drain_{kind}_1" not in raw:
            found.append(Figure.skipped(f"Drain rate, {NAMES[kind]}, 2 vs 1 worker", "quick run"))
            continue
        one, two = raw[f"drain_{kind}_1"], raw[f"drain_{kind}_2"]
        found.append(
            Figure(
                name=f"Drain rate, {NAMES[kind]}, 2 vs 1 worker",
                baseline="1 worker",
                baseline_value=one["per_s"],
                value=two["per_s"],
                unit="per s",
                ratio=two["per_s"] / one["per_s"],
                target="",
                met=None,
                notes=(
                    f"{one['events']} stored events, rate over the middle 80 %; "
                    f"run once: {one['once']} and {two['once']}"
                ),
            )
        )
    return found


def run(quick: bool) -> list[Figure]:
    reason = _pg.available()
    if not reason and not reachable(RQ_URL):
        reason = f"Redis unavailable at {RQ_URL}"
    for module in ("gunicorn", "django_tasks_db", "django_tasks_rq"):
        if not reason and importlib.util.find_spec(module) is None:
            reason = f"{module} is not installed (it is in the bench dependency group)"
    if reason:
        return [Figure.skipped("Background ack throughput (Stripe)", reason, ">= 0.95x the floor")]
    return figures(measure(quick))
