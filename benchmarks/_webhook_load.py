"""The load generator of figure 3, run as its own process (``python -m benchmarks._webhook_load``).

Reads a plan (JSON) on stdin: where to send, the secret, and a list of phases
(``{"name", "path", "ids": "unique"|"duplicate", "event_id", "count", "seconds"}``,
and optionally ``"port"``, for a phase sent to another server than the plan's,
``"event_type"``, for another type than ``customer.created``, and ``"concurrency"``,
for another number of connections than the plan's);
runs them in order and prints one JSON result per phase on stdout.

Two other kinds of phase (``"kind"``) are sent all at once rather than paced:
``"burst"`` sends ``count`` copies of one signed event, every connection opened
and the requests released together behind a barrier; ``"bodies"`` sends each of
``"bodies"`` (base64), validly signed, once, and answers their statuses in order.

Each request is a fresh connection with ``Connection: close``: gunicorn's sync
workers close every connection after answering anyway, so keep-alive would not
change what is measured. Raw sockets keep the generator's own CPU use small,
which matters on a 2-core machine where it shares the CPUs with the server.
Bodies are signed before a phase's clock starts, exactly as Stripe signs them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

_EVENT_TEMPLATE: dict[str, Any] = {
    "object": "event",
    "api_version": "2025-03-31.basil",
    "type": "customer.created",
    "livemode": False,
    "pending_webhooks": 1,
    "request": {"id": "req_benchmark", "idempotency_key": None},
    "data": {
        "object": {
            "id": "cus_benchmark0000000001",
            "object": "customer",
            "balance": 0,
            "currency": "eur",
            "delinquent": False,
            "description": "A customer created by the webhook benchmark",
            "email": "someone@example.com",
            "invoice_prefix": "BENCH01",
            "invoice_settings": {"default_payment_method": None, "footer": None},
            "livemode": False,
            "metadata": {"user_id": "42", "plan": "pro"},
            "name": "Some One",
            "preferred_locales": ["en"],
            "shipping": None,
            "tax_exempt": "none",
        }
    },
}


def signed_request(
    host: str, port: int, path: str, secret: str, event_id: str, event_type: str = ""
) -> bytes:
    """The bytes of one POST carrying a Stripe event signed with ``secret``."""
    timestamp = int(time.time())
    event = {**_EVENT_TEMPLATE, "id": event_id, "created": timestamp}
    if event_type:
        event["type"] = event_type
    return signed_body(host, port, path, secret, json.dumps(event).encode(), timestamp)


def signed_body(
    host: str, port: int, path: str, secret: str, body: bytes, timestamp: int = 0
) -> bytes:
    """The bytes of one POST carrying ``body``, whatever it is, signed as Stripe signs."""
    timestamp = timestamp or int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Stripe-Signature: t={timestamp},v1={mac.hexdigest()}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def send(host: str, port: int, request: bytes) -> int:
    """Send ``request`` on a new connection; the HTTP status, or 0 on a socket error."""
    try:
        with socket.create_connection((host, port), timeout=30) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return 0
    status_line = b"".join(chunks).split(b"\r\n", 1)[0].split()
    return int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0


def _in_threads(target: Callable[[], None], count: int) -> None:
    """Run ``target`` in ``count`` threads at once; return when all have ended."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_phase(
    host: str, port: int, secret: str, concurrency: int, phase: dict[str, Any]
) -> dict[str, Any]:
    """Send the phase's requests from ``concurrency`` threads, bounded in count and time."""
    port = int(phase.get("port", port))
    concurrency = int(phase.get("concurrency", concurrency))
    kind = phase.get("kind", "paced")
    if kind == "burst":
        return run_burst(host, port, secret, phase)
    if kind == "bodies":
        return run_bodies(host, port, secret, phase)
    count = int(phase["count"])
    ids = (
        [phase["event_id"]] * count
        if phase["ids"] == "duplicate"
        else [f"{phase['event_id']}_{index}" for index in range(count)]
    )
    event_type = str(phase.get("event_type", ""))
    requests = [
        signed_request(host, port, phase["path"], secret, event_id, event_type) for event_id in ids
    ]
    statuses: list[int] = []
    latencies: list[float] = []
    lock = threading.Lock()
    cursor = iter(range(count))
    started = time.perf_counter()
    deadline = started + float(phase["seconds"])

    def worker() -> None:
        while time.perf_counter() < deadline:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            sent = time.perf_counter()
            status = send(host, port, requests[index])
            elapsed = time.perf_counter() - sent
            with lock:
                statuses.append(status)
                latencies.append(elapsed)

    _in_threads(worker, concurrency)
    seconds = time.perf_counter() - started
    done = len(statuses)
    latencies.sort()
    return {
        "name": phase["name"],
        "path": phase["path"],
        "ids": phase["ids"],
        "concurrency": concurrency,
        "requests": done,
        "seconds": seconds,
        "rps": done / seconds if seconds else 0.0,
        "non_2xx": sum(1 for status in statuses if not 200 <= status < 300),
        "socket_errors": statuses.count(0),
        "statuses": {str(status): statuses.count(status) for status in sorted(set(statuses))},
        "latency_ms_p50": statistics.median(latencies) * 1000 if latencies else None,
        "latency_ms_p99": latencies[int(0.99 * (done - 1))] * 1000 if latencies else None,
    }


def run_burst(host: str, port: int, secret: str, phase: dict[str, Any]) -> dict[str, Any]:
    """``count`` copies of one event, released at once: one connection and thread each."""
    count = int(phase["count"])
    request = signed_request(
        host, port, phase["path"], secret, phase["event_id"], str(phase.get("event_type", ""))
    )
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        status = send(host, port, request)
        with lock:
            statuses.append(status)

    _in_threads(one, count)
    return {
        "name": phase["name"],
        "path": phase["path"],
        "kind": "burst",
        "event_id": phase["event_id"],
        "requests": len(statuses),
        "non_2xx": sum(1 for status in statuses if not 200 <= status < 300),
        "statuses": {str(status): statuses.count(status) for status in sorted(set(statuses))},
    }


def run_bodies(host: str, port: int, secret: str, phase: dict[str, Any]) -> dict[str, Any]:
    """Each body, validly signed, once, one after the other: their statuses in order."""
    statuses = [
        send(host, port, signed_body(host, port, phase["path"], secret, base64.b64decode(body)))
        for body in phase["bodies"]
    ]
    return {"name": phase["name"], "path": phase["path"], "kind": "bodies", "statuses": statuses}


def main() -> None:
    plan = json.load(sys.stdin)
    results = [
        run_phase(plan["host"], plan["port"], plan["secret"], plan["concurrency"], phase)
        for phase in plan["phases"]
    ]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
