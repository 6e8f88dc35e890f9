"""Figure 3: webhook throughput under gunicorn, patchbay against its floors and dj-stripe.

gunicorn (2 sync workers) serves ``benchmarks._webhook_site`` on PostgreSQL
with Redis as cache; a second gunicorn, from the peers' virtual environment
(:mod:`benchmarks.peers`), serves dj-stripe's endpoint
(``benchmarks._djstripe_site``) on a scratch database of the same server. A
load generator in its own process sends correctly signed Stripe events of a
type neither package calls an API for (``balance.available``; patchbay's site
has a registered no-op handler), at 8 and then 32 concurrent connections, in
rounds that rotate over the streams:

- ``patchbay``: first deliveries to patchbay's endpoint, processed inline
  (verify, store, dispatch, record, respond);
- ``floor``: the transactional floor, the targets' baseline: a view that
  verifies the signature, then BEGIN, INSERT of the event, COMMIT;
- ``autocommit``: the same INSERT autocommitted, and ``bare``: the signature
  check alone (information);
- ``duplicate``: redeliveries of one already processed event (information);
- ``djstripe``: first deliveries to dj-stripe's endpoint (a full run only).

Each round of each stream is bounded in count and time; the figures are
medians over the rounds, after a warm-up. Then 50 copies of one new event are
sent to each endpoint at once (answers, rows stored, handler runs), and
validly signed malformed bodies (their answers). Afterwards the stored events
are counted: each first delivery must have been processed once.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from benchmarks import _pg, peers
from benchmarks.common import Figure, reachable, redis_url, scratch_database

ROOT = Path(__file__).resolve().parent.parent
DATABASE = scratch_database("webhooks")
DJSTRIPE_DATABASE = scratch_database("webhooks_djstripe")
SECRET = "whsec_benchmark_" + "0" * 24
WEBHOOK_PATH = "/integrations/webhooks/stripe/"
BARE_PATH = "/bare/"
FLOOR_PATH = "/floor/"
TRANSACTION_FLOOR_PATH = "/floor/transaction/"
DJSTRIPE_PATH = peers.DJSTRIPE_PATH
CONCURRENCIES = (8, 32)
WORKERS = 2
# The type every stream posts: one neither package calls Stripe's API for (dj-stripe
# retrieves the customer of customer.created).
EVENT_TYPE = "balance.available"
BURST = 50
FLOOR_TARGET = 0.85
DJSTRIPE_TARGET = 5.0
COUNTED_MARK = "_counted_"  # benchmarks._webhook_urls counts the handler runs of these ids


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
def gunicorn(env: dict[str, str], python: str = sys.executable) -> Iterator[int]:
    """Serve a benchmark site on a free port; stopped (the whole group) on exit.

    ``python`` is the interpreter whose gunicorn serves it: the peers' for dj-stripe.
    """
    port = _free_port()
    command = [
        python,
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


# -- dj-stripe ---------------------------------------------------------------------------------


def _djstripe_env(database_url: str, runs_file: Path) -> dict[str, str]:
    return peers.environment(
        DJANGO_SETTINGS_MODULE="benchmarks._djstripe_site",
        BENCH_DATABASE_URL=database_url,
        BENCH_REDIS_URL=_redis_url(),
        BENCH_HANDLER_RUNS=str(runs_file),
        STRIPE_WEBHOOK_SECRET=SECRET,
    )


@contextmanager
def djstripe_server(quick: bool, runs_file: Path) -> Iterator[tuple[int | None, str, str]]:
    """dj-stripe's endpoint on its own gunicorn: ``(port, database URL, "")``.

    ``(None, "", why)`` in a quick run, and when the peers' venv cannot be made:
    the figures say so, the run goes on.
    """
    if quick:
        yield None, "", "quick run: dj-stripe streams are left out (a full run has them)"
        return
    try:
        python = str(peers.ensure())
    except peers.PeersUnavailable as exc:
        yield None, "", str(exc)
        return
    url = _pg.create_database(DJSTRIPE_DATABASE)
    try:
        env = _djstripe_env(url, runs_file)
        for command in (("-m", "django", "migrate", "--noinput", "-v", "0"),
                        ("-m", "benchmarks.peers", "endpoint")):  # fmt: skip
            completed = subprocess.run(
                [python, *command], cwd=ROOT, env=env, capture_output=True, text=True,
                timeout=600, check=False,
            )  # fmt: skip
            if completed.returncode:
                tail = " ".join(completed.stderr.strip().splitlines()[-3:])
                raise RuntimeError(f"dj-stripe's site: {' '.join(command)} failed: {tail}")
        with gunicorn(env, python) as port:
            yield port, url, ""
    finally:
        _pg.drop_database(DJSTRIPE_DATABASE)


# -- the plan ----------------------------------------------------------------------------------


# Validly signed bodies no well-behaved sender posts: what each endpoint answers.
MALFORMED: dict[str, bytes] = {
    "empty body": b"",
    "not JSON": b"this is not json",
    "invalid UTF-8": b'{"id": "evt_\xff\xfe", "type": "balance.available"}',
    "JSON array": b'[{"id": "evt_array", "type": "balance.available"}]',
    "JSON string": b'"evt_string"',
    "{}": b"{}",
    "no id": b'{"object": "event", "type": "balance.available", "data": {"object": {}}}',
    "no type": b'{"object": "event", "id": "evt_no_type", "data": {"object": {}}}',
    "id a number": b'{"object": "event", "id": 42, "type": "balance.available"}',
    "type a list": b'{"object": "event", "id": "evt_type_list", "type": ["balance.available"]}',
    "data a string": b'{"object": "event", "id": "evt_data_str", "type": "balance.available",'
    b' "data": "nothing"}',
    "id and type null": b'{"object": "event", "id": null, "type": null}',
    "huge id (100,000 chars)": b'{"object": "event", "id": "evt_'
    + b"x" * 100_000
    + b'", "type": "balance.available", "data": {"object": {}}}',
    "NUL in a value": b'{"object": "event", "id": "evt_nul", "type": "balance.available",'
    b' "data": {"object": {"name": "a\\u0000b"}}}',
    "NUL in the id": b'{"object": "event", "id": "evt_\\u0000", "type": "balance.available"}',
    "lone surrogate": b'{"object": "event", "id": "evt_surrogate", "type": "balance.available",'
    b' "data": {"object": {"name": "\\ud800"}}}',
    "NaN": b'{"object": "event", "id": "evt_nan", "type": "balance.available",'
    b' "data": {"object": {"amount": NaN}}}',
    "nested 100,000 deep": b'{"object": "event", "id": "evt_deep", "type": "balance.available",'
    b' "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}
# Of those, the bodies that are an event all the same (an object with a string id and
# type), whose odd values the no-op handler never reads: storing and answering 2xx is as
# right as a 4xx. Every other body must be answered 4xx; none may be answered 5xx.
ENVELOPES = frozenset({"data a string", "NUL in a value", "lone surrogate"})


def _streams(token: str, djstripe: int | None) -> dict[str, dict[str, Any]]:
    streams: dict[str, dict[str, Any]] = {
        "patchbay": {"path": WEBHOOK_PATH, "ids": "unique", "event_id": f"evt_{token}_first"},
        "floor": {"path": TRANSACTION_FLOOR_PATH, "ids": "unique", "event_id": f"evt_{token}_tx"},
        "autocommit": {"path": FLOOR_PATH, "ids": "unique", "event_id": f"evt_{token}_auto"},
        "bare": {"path": BARE_PATH, "ids": "unique", "event_id": f"evt_{token}_bare"},
        "duplicate": {"path": WEBHOOK_PATH, "ids": "duplicate", "event_id": f"evt_{token}_dup"},
    }
    if djstripe is not None:
        streams["djstripe"] = {
            "path": DJSTRIPE_PATH, "ids": "unique", "event_id": f"evt_{token}_djs",
            "port": djstripe,
        }  # fmt: skip
    for stream in streams.values():
        stream["event_type"] = EVENT_TYPE
    return streams


def _plan(port: int, djstripe: int | None, quick: bool, token: str) -> dict[str, Any]:
    """Per concurrency: warm-up, then rounds of every stream in rotating order; then the
    concurrent duplicates and the malformed bodies."""
    rounds, count, seconds = (2, 100, 2.0) if quick else (5, 1500, 5.0)
    warm = 30 if quick else 150
    streams = _streams(token, djstripe)
    duplicate = streams["duplicate"]
    # The first delivery of the event the duplicate stream repeats.
    phases: list[dict[str, Any]] = [
        {**duplicate, "name": "warmup", "count": 1, "seconds": 10, "concurrency": 1}
    ]
    names = list(streams)
    for concurrency in CONCURRENCIES:
        for name, stream in streams.items():
            if name != "duplicate":
                phases.append({**stream, "name": "warmup", "count": warm, "seconds": 10,
                               "event_id": f"{stream['event_id']}_c{concurrency}_w",
                               "concurrency": concurrency})  # fmt: skip
        for index in range(rounds):
            # Rotating the order keeps any drift (table growth, autovacuum) off one stream.
            for name in names[index % len(names) :] + names[: index % len(names)]:
                stream = streams[name]
                event_id = stream["event_id"]
                if stream["ids"] == "unique":
                    event_id += f"_c{concurrency}_r{index}"
                phases.append({**stream, "name": name, "event_id": event_id, "count": count,
                               "seconds": seconds, "concurrency": concurrency})  # fmt: skip
    phases.append({"name": "burst_patchbay", "kind": "burst", "path": WEBHOOK_PATH,
                   "event_id": f"evt_{token}{COUNTED_MARK}burst", "event_type": EVENT_TYPE,
                   "count": BURST, "ids": "duplicate"})  # fmt: skip
    bodies = [base64.b64encode(body).decode() for body in MALFORMED.values()]
    phases.append({"name": "malformed_patchbay", "kind": "bodies", "path": WEBHOOK_PATH,
                   "bodies": bodies, "ids": "-"})  # fmt: skip
    if djstripe is not None:
        phases.append({"name": "burst_djstripe", "kind": "burst", "path": DJSTRIPE_PATH,
                       "event_id": f"evt_{token}{COUNTED_MARK}burst_djs", "event_type": EVENT_TYPE,
                       "count": BURST, "ids": "duplicate", "port": djstripe})  # fmt: skip
        phases.append({"name": "malformed_djstripe", "kind": "bodies", "path": DJSTRIPE_PATH,
                       "bodies": bodies, "ids": "-", "port": djstripe})  # fmt: skip
    return {
        "host": "127.0.0.1",
        "port": port,
        "secret": SECRET,
        "concurrency": CONCURRENCIES[0],
        "phases": phases,
    }


def _load(plan: dict[str, Any]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks._webhook_load"],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1500,
        check=False,
    )
    if completed.returncode:
        raise RuntimeError(f"the load generator failed:\n{completed.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


# -- what was stored ---------------------------------------------------------------------------


def _query(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return list(connection.execute(sql, params).fetchall())


def _stored_events(database_url: str) -> dict[str, int]:
    """Stored WebhookEvent rows by status: every delivery must have run once."""
    rows = _query(
        database_url,
        "SELECT status, count(*), max(attempts) FROM patchbay_webhookevent"
        " WHERE provider = 'stripe' GROUP BY status",
    )
    return {
        **{str(status): int(count) for status, count, _ in rows},
        "max_attempts": max((int(attempts) for _, _, attempts in rows), default=0),
    }


def _patchbay_burst(database_url: str, event_id: str, runs_file: Path) -> dict[str, Any]:
    rows = _query(
        database_url,
        "SELECT status, attempts FROM patchbay_webhookevent"
        " WHERE provider = 'stripe' AND event_id = %s",
        event_id,
    )
    return {
        "rows": len(rows),
        "statuses": sorted(str(status) for status, _ in rows),
        "attempts": sum(int(attempts) for _, attempts in rows),
        "handler_runs": _handler_runs(runs_file, event_id),
    }


def _handler_runs(runs_file: Path, event_id: str) -> int:
    return (runs_file.read_text().split() if runs_file.exists() else []).count(event_id)


def _djstripe_burst(database_url: str, event_id: str, runs_file: Path) -> dict[str, Any]:
    (events,) = _query(database_url, "SELECT count(*) FROM djstripe_event WHERE id = %s", event_id)
    (triggers,) = _query(
        database_url,
        "SELECT count(*), count(*) FILTER (WHERE valid), count(*) FILTER (WHERE processed),"
        " count(*) FILTER (WHERE exception <> '')"
        " FROM djstripe_webhookeventtrigger WHERE body LIKE %s",
        f'%"id": "{event_id}"%',
    )
    return {
        "events": int(events[0]),
        "triggers": int(triggers[0]),
        "valid": int(triggers[1]),
        "processed": int(triggers[2]),
        "exceptions": int(triggers[3]),
        "handler_runs": _handler_runs(runs_file, event_id),
    }


def _djstripe_events(database_url: str) -> int:
    (row,) = _query(database_url, "SELECT count(*) FROM djstripe_event")
    return int(row[0])


def measure(quick: bool) -> dict[str, Any]:
    """Raw results: per-phase answers of the load generator and what was stored."""
    token = uuid.uuid4().hex[:8]
    load_before = os.getloadavg()[0]
    url = _pg.create_database(DATABASE)
    runs_file = Path(tempfile.mkdtemp(prefix="patchbay-bench-webhooks-")) / "handler-runs"
    try:
        env = {**_site_env(url, _redis_url()), "BENCH_HANDLER_RUNS": str(runs_file)}
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        with (
            djstripe_server(quick, runs_file) as (djstripe, djstripe_url, skipped),
            gunicorn(env) as port,
        ):
            plan = _plan(port, djstripe, quick, token)
            phases = _load(plan)
            burst_ids = {phase["name"]: phase.get("event_id", "") for phase in plan["phases"]}
            raw: dict[str, Any] = {
                "phases": phases,
                "redis": bool(env["BENCH_REDIS_URL"]),
                "quick": quick,
                "load": [load_before, os.getloadavg()[0]],
                "djstripe_skipped": skipped,
                "burst_patchbay": _patchbay_burst(url, burst_ids["burst_patchbay"], runs_file),
                "stored": _stored_events(url),
            }
            if djstripe is not None:
                raw["burst_djstripe"] = _djstripe_burst(
                    djstripe_url, burst_ids["burst_djstripe"], runs_file
                )
                raw["djstripe_events"] = _djstripe_events(djstripe_url)
                raw["peers"] = peers.versions()
    finally:
        _pg.drop_database(DATABASE)
        with suppress(OSError):
            runs_file.unlink(missing_ok=True)
            runs_file.parent.rmdir()
    return raw


# -- figures -----------------------------------------------------------------------------------


def _median(phases: list[dict[str, Any]], name: str, concurrency: int, key: str = "rps") -> float:
    return float(
        statistics.median(
            phase[key]
            for phase in phases
            if phase["name"] == name and phase.get("concurrency") == concurrency
        )
    )


def _spread(phases: list[dict[str, Any]], name: str, concurrency: int) -> str:
    """The lowest and highest of a stream's rounds: how far to trust its median."""
    rates = [p["rps"] for p in phases if p["name"] == name and p.get("concurrency") == concurrency]
    return f"{min(rates):.0f}-{max(rates):.0f}"


def _throughput_figures(raw: dict[str, Any]) -> list[Figure]:
    phases = raw["phases"]
    measured = [
        phase for phase in phases if phase.get("kind") is None and phase["name"] != "warmup"
    ]
    has_djstripe = any(phase["name"] == "djstripe" for phase in measured)
    rounds = sum(1 for phase in measured if phase["name"] == "floor") // len(CONCURRENCIES)
    cache = "Redis cache" if raw["redis"] else "local-memory cache (no Redis)"
    found: list[Figure] = []
    for concurrency in CONCURRENCIES:
        rate = {
            name: _median(measured, name, concurrency)
            for name in ("patchbay", "floor", "autocommit", "bare", "duplicate")
            + (("djstripe",) if has_djstripe else ())
        }
        p50 = {name: _median(measured, name, concurrency, "latency_ms_p50") for name in rate}
        spread = {name: _spread(measured, name, concurrency) for name in rate}
        first, floor = rate["patchbay"], rate["floor"]
        setup = (
            f"gunicorn {WORKERS} sync workers, PostgreSQL, {cache}, {concurrency} concurrent "
            f"connections, signed {EVENT_TYPE} events, median of {rounds} rounds, load "
            f"average {raw['load'][0]:.1f} before and {raw['load'][1]:.1f} after"
        )
        found.append(
            Figure(
                name=f"Webhook inline vs transactional floor, c={concurrency}",
                baseline="verify + BEGIN, INSERT, COMMIT",
                baseline_value=floor,
                value=first,
                unit="req/s",
                ratio=first / floor,
                target=f">= {FLOOR_TARGET}x the floor",
                met=first / floor >= FLOOR_TARGET,
                notes=(
                    f"{setup}; information: the INSERT autocommitted {rate['autocommit']:.0f} "
                    f"req/s (patchbay {first / rate['autocommit']:.2f}x), the bare verify-only "
                    f"view {rate['bare']:.0f} req/s ({first / rate['bare']:.2f}x); p50 latency "
                    f"patchbay {p50['patchbay']:.1f} ms, floor {p50['floor']:.1f} ms; rounds "
                    f"(req/s): patchbay {spread['patchbay']}, floor {spread['floor']}"
                ),
            )
        )
        found.append(
            Figure(
                name=f"Webhook duplicate deliveries, c={concurrency}",
                baseline="first deliveries",
                baseline_value=first,
                value=rate["duplicate"],
                unit="req/s",
                ratio=rate["duplicate"] / first,
                target="",
                met=None,
                notes=f"information: one processed event redelivered; p50 latency "
                f"{p50['duplicate']:.1f} ms",
            )
        )
        name = f"Webhook inline vs dj-stripe, c={concurrency}"
        target = f">= {DJSTRIPE_TARGET:g}x dj-stripe" if concurrency == 32 else ""
        if not has_djstripe:
            found.append(Figure.skipped(name, raw["djstripe_skipped"], target))
            continue
        djstripe = rate["djstripe"]
        found.append(
            Figure(
                name=name,
                baseline="dj-stripe's webhook endpoint",
                baseline_value=djstripe,
                value=first,
                unit="req/s",
                ratio=first / djstripe,
                target=target,
                met=first / djstripe >= DJSTRIPE_TARGET if target else None,
                notes=(
                    f"{setup}; dj-stripe {_versions(raw)} from the peers' venv, on its own "
                    f"gunicorn ({WORKERS} sync workers) and scratch database, same rounds; p50 "
                    f"latency patchbay {p50['patchbay']:.1f} ms, dj-stripe "
                    f"{p50['djstripe']:.1f} ms; rounds (req/s): dj-stripe {spread['djstripe']}; "
                    # What any endpoint storing the event in a transaction can reach here.
                    f"the transactional floor is {floor / djstripe:.2f}x dj-stripe; "
                    "dj-stripe non-2xx answers: "
                    f"{sum(p['non_2xx'] for p in phases if p['name'] == 'djstripe')}"
                ),
            )
        )
    return found


def _versions(raw: dict[str, Any]) -> str:
    found = raw.get("peers") or {}
    return f"{found.get('dj-stripe')} (stripe {found.get('stripe')})"


def _burst_figures(raw: dict[str, Any]) -> list[Figure]:
    phases = {phase["name"]: phase for phase in raw["phases"]}
    answers = phases["burst_patchbay"]["statuses"]
    stored = raw["burst_patchbay"]
    ok = (
        stored["rows"] == 1
        and stored["handler_runs"] == 1
        and phases["burst_patchbay"]["non_2xx"] == 0
    )
    found = [
        Figure(
            name=f"Webhook {BURST} identical concurrent deliveries",
            baseline="rows stored",
            baseline_value=float(stored["rows"]),
            value=float(stored["handler_runs"]),
            unit="handler runs",
            ratio=None,
            target="1 row, 1 handler run, all 2xx",
            met=ok,
            notes=(
                f"one new event id, {BURST} copies released at once; answers {answers}; "
                f"rows {stored['rows']} ({', '.join(stored['statuses'])}), attempts "
                f"{stored['attempts']}, handler runs {stored['handler_runs']} (counted by the "
                "handler itself)"
            ),
        )
    ]
    name = f"dj-stripe {BURST} identical concurrent deliveries"
    if "burst_djstripe" not in raw:
        found.append(Figure.skipped(name, raw["djstripe_skipped"]))
        return found
    theirs = raw["burst_djstripe"]
    found.append(
        Figure(
            name=name,
            baseline="Event rows",
            baseline_value=float(theirs["events"]),
            value=float(theirs["handler_runs"]),
            unit="handler runs",
            ratio=None,
            target="",
            met=None,
            notes=(
                f"information: answers {phases['burst_djstripe']['statuses']}; Event rows "
                f"{theirs['events']}, handler runs {theirs['handler_runs']} (a receiver of "
                "its balance.available signal counting them); "
                f"WebhookEventTrigger rows {theirs['triggers']} (valid "
                f"{theirs['valid']}, processed {theirs['processed']}, with an exception "
                f"{theirs['exceptions']})"
            ),
        )
    )
    return found


def _malformed_figure(raw: dict[str, Any]) -> Figure:
    phases = {phase["name"]: phase for phase in raw["phases"]}
    ours = phases["malformed_patchbay"]["statuses"]
    theirs = phases.get("malformed_djstripe", {}).get("statuses")
    labels = list(MALFORMED)
    wrong = sum(
        1
        for label, status in zip(labels, ours, strict=True)
        if not (400 <= status < 500 or (label in ENVELOPES and 200 <= status < 300))
    )
    answers = "; ".join(
        f"{label}: {status}" + (f" (dj-stripe {theirs[index]})" if theirs else "")
        for index, (label, status) in enumerate(zip(labels, ours, strict=True))
    )
    return Figure(
        name="Webhook validly signed malformed bodies",
        baseline="bodies sent",
        baseline_value=float(len(ours)),
        value=float(wrong),
        unit="wrong answers",
        ratio=None,
        target="0: no 5xx, 4xx for a non-event",
        met=wrong == 0,
        notes=(
            f"an event all the same (2xx as right as 4xx): {', '.join(sorted(ENVELOPES))}; "
            "patchbay's answers"
            + (
                ", dj-stripe's for information"
                if theirs
                else f" (dj-stripe: {raw['djstripe_skipped']})"
            )
            + f": {answers}"
        ),
    )


def figures(raw: dict[str, Any]) -> list[Figure]:
    phases = raw["phases"]
    well_formed = [phase for phase in phases if phase.get("kind") is None]
    ours = [phase for phase in well_formed if phase["path"] != DJSTRIPE_PATH]
    sent = sum(phase["requests"] for phase in ours)
    non_2xx = sum(phase["non_2xx"] for phase in ours)
    stored = raw["stored"]
    # Every first delivery (warm-up included), the one event the duplicates repeat, the
    # one of the concurrent copies and the odd bodies that are events all the same.
    malformed = next(phase for phase in phases if phase["name"] == "malformed_patchbay")
    delivered = (
        2
        + sum(1 for status in malformed["statuses"] if 200 <= status < 300)
        + sum(
            phase["requests"]
            for phase in ours
            if phase["path"] == WEBHOOK_PATH and phase["ids"] == "unique"
        )
    )
    return [
        *_throughput_figures(raw),
        Figure(
            name="Webhook non-2xx answers",
            baseline="requests sent",
            baseline_value=float(sent),
            value=float(non_2xx),
            unit="answers",
            ratio=non_2xx / sent if sent else 0.0,
            target="0",
            met=non_2xx == 0,
            notes=(
                "every well-formed request to patchbay's site (its endpoint and the floors), "
                f"warm-up included; first deliveries stored and processed: "
                f"{stored.get('processed', 0)} of {delivered}, most attempts of one event: "
                f"{stored['max_attempts']}"
                + (
                    f"; dj-stripe stored {raw['djstripe_events']} Event rows"
                    if "djstripe_events" in raw
                    else ""
                )
            ),
        ),
        *_burst_figures(raw),
        _malformed_figure(raw),
    ]


def run(quick: bool) -> list[Figure]:
    reason = _pg.available()
    if importlib.util.find_spec("gunicorn") is None:
        reason = "gunicorn is not installed (it is in the bench dependency group)"
    if reason:
        target = f">= {FLOOR_TARGET}x the floor"
        return [Figure.skipped("Webhook inline vs transactional floor", reason, target)]
    return figures(measure(quick))
