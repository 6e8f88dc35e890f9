"""Two processes sharing Redis keep, together, within their provider's outbound limit.

Each process makes Loops calls as fast as it may against a local HTTP server
standing in for Loops, which notes when each request arrives. The limiter
counts in windows that start with the first call after the previous window
ended; the test cuts the arrivals into windows the same way and counts each.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 4  # calls a second: "4/s"
CALLS_PER_PROCESS = 8
# Requests reach the server a few milliseconds after their turn was taken, not all
# equally late: the windows the test cuts are this much shorter than the limiter's.
TRANSIT_ALLOWANCE = 0.1

# Run in each process: Django on tests/settings.py (Redis from REDIS_URL), Loops live
# at the local server and limited to its third argument, then CALLS_PER_PROCESS calls
# once the test says go.
CALLER = """
import os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()
from django.conf import settings
from django.core.management import call_command
call_command("migrate", verbosity=0)
settings.PATCHBAY_SIMULATE = False
settings.LOOPS_API_KEY = "loops-api-key-0123456789abcdef"
settings.LOOPS_API_BASE = sys.argv[1]
settings.PATCHBAY_MAX_RETRIES = 0
settings.PATCHBAY_RATE_LIMITS = {"loops": sys.argv[3]}
settings.PATCHBAY_RATE_LIMIT_MAX_WAIT = 30
from patchbay.conf import conf
from patchbay.loops import http
from patchbay.loops.client import LoopsClient
# The first request pays for imports and a connection: not in the windows counted.
http.session(conf.MAX_RETRIES, conf.LOOPS_RETRY_BACKOFF).get(sys.argv[1] + "/warm-up")
print("ready", flush=True)
sys.stdin.readline()
results = [LoopsClient().check_health() for _ in range(int(sys.argv[2]))]
print("ok" if all(result["success"] for result in results) else results, flush=True)
"""


class Loops(BaseHTTPRequestHandler):
    arrivals: list[float] = []
    lock = threading.Lock()

    def do_GET(self):
        if self.path.endswith("/api-key"):
            with self.lock:
                self.arrivals.append(time.time())
        body = b'{"success": true, "teamName": "Team"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loops_server():
    Loops.arrivals = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Loops)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1", Loops.arrivals
    server.shutdown()
    server.server_close()


def windows(arrivals, length):
    """The arrivals cut into windows that each start with the first arrival after the last."""
    cut: list[list[float]] = []
    for arrival in sorted(arrivals):
        if cut and arrival < cut[-1][0] + length:
            cut[-1].append(arrival)
        else:
            cut.append([arrival])
    return cut


@pytest.mark.redis
def test_two_processes_stay_within_the_limit_together(redis_url, loops_server, tmp_path):
    base, arrivals = loops_server
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
    env.pop("DATABASE_URL", None)  # each process records its calls in its own SQLite
    callers = [
        subprocess.Popen(  # noqa: S603  (our interpreter, our code)
            [sys.executable, "-c", CALLER, base, str(CALLS_PER_PROCESS), f"{LIMIT}/s"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for caller in callers:
            assert caller.stdout.readline().strip() == "ready"
        for caller in callers:  # both start together
            caller.stdin.write("go\n")
            caller.stdin.flush()
        answers = [caller.communicate(timeout=120)[0].strip() for caller in callers]
    finally:
        for caller in callers:
            caller.kill()
            caller.wait()

    assert answers == ["ok", "ok"]
    assert len(arrivals) == 2 * CALLS_PER_PROCESS
    counts = [len(window) for window in windows(arrivals, 1 - TRANSIT_ALLOWANCE)]
    # Four a second between them, not four each: sixteen calls took four windows.
    assert max(counts) <= LIMIT, counts
