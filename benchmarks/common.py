"""What every benchmark shares: figures, timing, the stub HTTP server, Django set-up.

Also a small command line, used by the runner and the benchmarks themselves:

    python -m benchmarks.common stub                 # serve the stub; prints its port
    python -m benchmarks.common call MODULE FUNC OUT # MODULE.FUNC(**json stdin) -> OUT
"""

from __future__ import annotations

import atexit
import copy
import dataclasses
import gc
import importlib
import itertools
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

# Where PostgreSQL and Redis are, for the benchmarks that use them. Each benchmark
# creates (and drops) a database of its own on that server, named after it with the
# prefix PATCHBAY_BENCH_DB_PREFIX; the Redis URL's database and the next ones
# (REDIS_DATABASES of them) are the benchmarks', flushed as they need.
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
DEFAULT_DB_PREFIX = "patchbay_bench_"
REDIS_DATABASES = 4
# The virtual environment of the peers (dj-stripe pins its own stripe SDK, so it cannot
# share patchbay's): made by the runner when a full run first needs it.
PEERS_VENV = Path(os.environ.get("PATCHBAY_BENCH_PEERS_VENV") or ROOT / ".venv-peers")


# -- figures -------------------------------------------------------------------------------


TIMES = "\N{MULTIPLICATION SIGN}"
# A ratio bound in a target's words: ">= 0.85x the floor", "<= 1.15x", "≥ 5x dj-stripe"
# (or with the multiplication sign).
_RATIO_BOUND = re.compile(rf"(>=|<=|≥|≤)\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*[x{TIMES}](?![a-z])")


@dataclasses.dataclass(frozen=True)
class RatioTarget:
    """A bound on a figure's ratio: ``at_least`` ``bound`` (>=), or at most (<=)."""

    bound: float
    at_least: bool

    def met_by(self, ratio: float) -> bool:
        return ratio >= self.bound if self.at_least else ratio <= self.bound

    def __str__(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.bound:g}{TIMES}"

    @classmethod
    def parse(cls, target: str) -> RatioTarget | None:
        """The first ratio bound in ``target`` (``">= 2,000/s and >= 20x"``: 20), or None."""
        found = _RATIO_BOUND.search(target)
        if found is None:
            return None
        sign, number = found.groups()
        return cls(float(number.replace(",", "")), at_least=sign in {">=", "≥"})


@dataclasses.dataclass
class Figure:
    """One line of the results table: a value, its same-run baseline and their ratio.

    ``met`` is None when the figure has no target or was not measured.
    ``target_ratio`` and ``target_direction`` (``">="`` or ``"<="``) state the
    ratio's bound for the chart; a figure without them has it read from ``target``.
    """

    name: str
    baseline: str
    baseline_value: float | None
    value: float | None
    unit: str
    ratio: float | None
    target: str
    met: bool | None
    notes: str = ""
    target_ratio: float | None = None
    target_direction: str = ""

    def __post_init__(self) -> None:
        if self.target_ratio is not None and self.target_direction not in {">=", "<="}:
            raise ValueError(f"target_direction {self.target_direction!r}: '>=' or '<='")

    def ratio_target(self) -> RatioTarget | None:
        """The bound on :attr:`ratio`, if the target has one (structured, else parsed)."""
        if self.target_ratio is not None:
            return RatioTarget(self.target_ratio, at_least=self.target_direction == ">=")
        return RatioTarget.parse(self.target)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figure:
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})

    @classmethod
    def skipped(cls, name: str, reason: str, target: str = "") -> Figure:
        """A figure that could not be measured here (e.g. no PostgreSQL server)."""
        return cls(name, "", None, None, "", None, target, None, f"skipped: {reason}")


# -- timing ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Settings:
    """How long to measure: ``rounds`` batches of ``batch`` calls after ``warmup`` calls."""

    rounds: int
    batch: int
    warmup: int


def per_call(
    fn: Callable[[], object],
    batch: int,
    settle: Callable[[], object] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Mean seconds per call of ``batch`` calls of ``fn``, timed by ``clock``.

    ``settle``, if given, runs after the batch and inside its time: work the
    calls left to a background thread (storing their records) counts as theirs.
    """
    started = clock()
    for _ in range(batch):
        fn()
    if settle is not None:
        settle()
    return (clock() - started) / batch


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Median seconds per call of a baseline and a subject, from interleaved rounds."""

    baseline: float
    subject: float
    baseline_rounds: tuple[float, ...]
    subject_rounds: tuple[float, ...]

    @property
    def ratio(self) -> float:
        return self.subject / self.baseline


def compare(
    baseline: Callable[[], object],
    subject: Callable[[], object],
    how: Settings,
    *,
    settle: Callable[[], object] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Comparison:
    """Time ``baseline`` and ``subject`` in alternating rounds (ABBA), medians per call.

    Alternating the order each round spreads the machine's drift over both,
    and the median ignores the rounds a neighbour's burst of work spoiled.
    ``settle`` ends each of the subject's batches (see :func:`per_call`).
    ``clock`` is wall time unless a benchmark of pure computation says
    otherwise (``time.process_time``: the CPU this process used, in every
    thread, whatever its neighbours on the machine do).
    """
    for _ in range(how.warmup):
        baseline()
        subject()
    base_rounds: list[float] = []
    subject_rounds: list[float] = []
    for round_ in range(how.rounds):
        gc.collect()
        if round_ % 2:
            subject_rounds.append(per_call(subject, how.batch, settle, clock))
            base_rounds.append(per_call(baseline, how.batch, clock=clock))
        else:
            base_rounds.append(per_call(baseline, how.batch, clock=clock))
            subject_rounds.append(per_call(subject, how.batch, settle, clock))
    return Comparison(
        statistics.median(base_rounds),
        statistics.median(subject_rounds),
        tuple(base_rounds),
        tuple(subject_rounds),
    )


def throughput(fn: Callable[[], object], how: Settings) -> float:
    """Median calls per second of ``fn`` over ``how.rounds`` batches, after warm-up."""
    for _ in range(how.warmup):
        fn()
    rounds = []
    for _ in range(how.rounds):
        gc.collect()
        rounds.append(per_call(fn, how.batch))
    return 1 / statistics.median(rounds)


# -- the stub HTTP server ---------------------------------------------------------------------

_STRIPE_CUSTOMER: dict[str, Any] = {
    "id": "cus_BenchStub0000000001",
    "object": "customer",
    "address": None,
    "balance": 0,
    "created": 1700000000,
    "currency": None,
    "default_source": None,
    "delinquent": False,
    "description": None,
    "email": "ada@example.com",
    "invoice_prefix": "BENCH0001",
    "invoice_settings": {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": None,
        "rendering_options": None,
    },
    "livemode": False,
    "metadata": {"plan": "pro"},
    "name": "Ada Lovelace",
    "next_invoice_sequence": 1,
    "phone": None,
    "preferred_locales": [],
    "shipping": None,
    "tax_exempt": "none",
    "test_clock": None,
}
_TWILIO_MESSAGE: dict[str, Any] = {
    "account_sid": "AC00000000000000000000000000000000",
    "api_version": "2010-04-01",
    "body": "Your order has shipped.",
    "date_created": "Thu, 23 Nov 2023 12:00:00 +0000",
    "date_sent": None,
    "date_updated": "Thu, 23 Nov 2023 12:00:00 +0000",
    "direction": "outbound-api",
    "error_code": None,
    "error_message": None,
    "from": "+15005550006",
    "messaging_service_sid": None,
    "num_media": "0",
    "num_segments": "1",
    "price": None,
    "price_unit": "USD",
    "sid": "SM00000000000000000000000000000001",
    "status": "queued",
    "subresource_uris": {"media": "/2010-04-01/Accounts/AC0/Messages/SM0/Media.json"},
    "to": "+14155552671",
    "uri": "/2010-04-01/Accounts/AC0/Messages/SM0.json",
}


_serial = itertools.count(1)


def _answer(method: str, path: str) -> tuple[int, dict[str, Any]]:
    """The canned answer to one request, shaped like the real service's, with a new id."""
    if method == "POST" and path == "/v1/customers":
        return 200, {**_STRIPE_CUSTOMER, "id": f"cus_Bench{next(_serial):016d}"}
    if method == "POST" and path.startswith("/2010-04-01/") and path.endswith("/Messages.json"):
        return 201, {**_TWILIO_MESSAGE, "sid": f"SM{next(_serial):032d}"}
    if method == "POST" and path == "/api/v1/transactional":
        return 200, {"success": True}
    return 404, {"error": f"the stub does not serve {method} {path}"}


class _StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse their pooled connection
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024  # headers and body leave in one write, flushed per request
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        if path == "/__stats":
            with self.lock:
                status, answer = 200, dict(self.counts)
        else:
            status, answer = _answer(self.command, path)
            with self.lock:
                self.counts[path] = self.counts.get(path, 0) + 1
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a line per request would cost more than answering it


def serve_stub(port: int = 0) -> None:
    """Serve the stub on 127.0.0.1 until killed; print the port first."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _StubHandler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


class StubServer:
    """The stub HTTP server in a process of its own (it must not share our GIL)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.common", "stub"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.close()
            raise RuntimeError("the stub server did not start")
        self.port = int(line)
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, int]:
        """Requests served so far, per path (proves the calls really went out)."""
        import urllib.request

        with urllib.request.urlopen(self.url + "/__stats", timeout=5) as answer:  # noqa: S310
            counts: dict[str, int] = json.load(answer)
        return counts

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> StubServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- Django in a benchmark process ----------------------------------------------------------------


def postgres_url() -> str:
    """The PostgreSQL server: ``PATCHBAY_BENCH_DATABASE_URL``, else ``DATABASE_URL`` (as CI)."""
    return (
        os.environ.get("PATCHBAY_BENCH_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


def redis_url(offset: int = 0) -> str:
    """Redis for the benchmarks: ``PATCHBAY_BENCH_REDIS_URL`` (default db 8 on 127.0.0.1).

    ``offset`` picks one of the :data:`REDIS_DATABASES` consecutive databases from the
    URL's on: a benchmark that needs a database of its own (a cache it flushes, a queue)
    takes another offset, so no two benchmarks share one and none touches another's data.
    """
    if not 0 <= offset < REDIS_DATABASES:
        raise ValueError(f"offset {offset} outside the benchmarks' {REDIS_DATABASES} databases")
    parts = urlsplit(os.environ.get("PATCHBAY_BENCH_REDIS_URL") or DEFAULT_REDIS_URL)
    first = int(parts.path.lstrip("/") or 0)
    return parts._replace(path=f"/{first + offset}").geturl()


def scratch_database(label: str) -> str:
    """The throw-away PostgreSQL database of benchmark ``label``.

    ``PATCHBAY_BENCH_DB_PREFIX`` (default ``patchbay_bench_``) followed by ``label``:
    created afresh on :func:`postgres_url`'s server and dropped afterwards, so the
    prefix must name databases that nothing else uses.
    """
    prefix = os.environ.get("PATCHBAY_BENCH_DB_PREFIX") or DEFAULT_DB_PREFIX
    return f"{prefix}{label}"


def reachable(url: str) -> bool:
    """Whether something listens at the host and port of ``url``."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 2).close()
    except OSError:
        return False
    return True


def postgres_available() -> bool:
    return reachable(postgres_url()) and reachable(redis_url())


def _postgres_settings(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "postgres",
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
    }


BASE_SETTINGS: dict[str, Any] = {
    "SECRET_KEY": "patchbay-benchmarks-not-a-secret",
    "DEBUG": False,  # DEBUG keeps every query in memory, and would turn simulation on
    "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "testserver"],
    "USE_TZ": True,
    "INSTALLED_APPS": [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "patchbay",
    ],
    "MIDDLEWARE": [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    "TEMPLATES": [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    "ROOT_URLCONF": "benchmarks.urls",
    "STATIC_URL": "/static/",
    "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "PATCHBAY_SIMULATE": False,
    # The stub servers answer as fast as they can: limits no call reaches, so that the
    # figures count what keeping to a limit costs a call, but never a wait for a turn.
    "PATCHBAY_RATE_LIMITS": {"stripe": "1000000/s", "loops": "1000000/s", "twilio": "1000000/s"},
    "SILENCED_SYSTEM_CHECKS": ["patchbay.W004"],
}


def project_settings(**overrides: Any) -> dict[str, Any]:
    """The settings of a benchmark's project: :data:`BASE_SETTINGS` with ``overrides``.

    For a settings module of its own (a server in another process loads it by
    name) as much as for :func:`django_environment`.
    """
    return {**copy.deepcopy(BASE_SETTINGS), **overrides}


def postgres_database(url: str, **options: Any) -> dict[str, Any]:
    """A ``DATABASES`` entry for the PostgreSQL database at ``url``, plus ``options``."""
    return {**_postgres_settings(url), **options}


def django_environment(
    database: str = "sqlite",
    *,
    label: str = "bench",
    database_options: Mapping[str, Any] | None = None,
    database_name: str | None = None,
    **settings: Any,
) -> dict[str, str]:
    """Configure and set up Django in this process, with migrated tables; describe it.

    ``database`` is ``"sqlite"`` (a file in a temporary folder, not ``:memory:``,
    which flatters writes, with the local-memory cache) or ``"postgres"`` (a
    fresh database ``database_name``, by default :func:`scratch_database` of ``label``, on
    :func:`postgres_url`, dropped at exit, with Redis at :func:`redis_url` as
    the cache, as in production).
    ``database_options`` become the database's ``OPTIONS``; ``settings``
    override :data:`BASE_SETTINGS`. Call once per process.
    """
    import django

    from patchbay.cache import cache_settings

    chosen = project_settings()
    key_prefix = f"patchbay-bench-{label}-{os.getpid()}"
    if database == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"patchbay-bench-{label}-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        chosen["DATABASES"] = {
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{folder}/db.sqlite3"}
        }
        chosen["CACHES"] = cache_settings(None, key_prefix=key_prefix)
    elif database == "postgres":
        db = _postgres_settings(postgres_url())
        db["TEST"] = {"NAME": database_name or scratch_database(label)}
        chosen["DATABASES"] = {"default": db}
        chosen["CACHES"] = cache_settings(redis_url(), key_prefix=key_prefix)
    else:
        raise ValueError(f"unknown database {database!r}: 'sqlite' or 'postgres'")
    chosen["DATABASES"]["default"]["OPTIONS"] = dict(database_options or {})
    chosen.update(settings)
    # A settings module, as projects have, rather than settings.configure(): Django
    # reads the two differently, and unset settings cost more with configure().
    module = types.ModuleType("benchmarks_settings")
    module.__dict__.update(chosen)
    sys.modules[module.__name__] = module
    os.environ["DJANGO_SETTINGS_MODULE"] = module.__name__
    django.setup()

    from django.core.management import call_command
    from django.db import connection

    if database == "postgres":
        old_name = connection.settings_dict["NAME"]
        # Django's test-database machinery: create (or recreate) it, migrate, drop at exit.
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        atexit.register(connection.creation.destroy_test_db, old_name, verbosity=0)
    else:
        call_command("migrate", verbosity=0, interactive=False)
    return describe_environment()


def describe_environment() -> dict[str, str]:
    """The database and cache Django uses here, for notes."""
    from django.conf import settings as django_settings
    from django.db import connection

    cache = django_settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        return {"database": f"PostgreSQL {version.split()[0]}", "cache": cache}
    import sqlite3

    return {"database": f"SQLite {sqlite3.sqlite_version} (file)", "cache": cache}


# -- processes ------------------------------------------------------------------------------------


def call_in_subprocess(
    module: str,
    function: str,
    kwargs: Mapping[str, Any] | None = None,
    *,
    timeout: float = 900,
    env: Mapping[str, str | None] | None = None,
) -> Any:
    """``module.function(**kwargs)`` in a fresh interpreter; its JSON-able return value.

    Benchmarks need a process each: Django is configured once per process, and
    a benchmark must not inherit the imports and caches of the one before it.
    ``env`` adds environment variables to ours (None removes one).
    """
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    with tempfile.TemporaryDirectory(prefix="patchbay-bench-") as folder:
        out = Path(folder) / "result.json"
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.common", "call", module, function, str(out)],
            cwd=ROOT,
            env=environment,
            input=json.dumps(dict(kwargs or {})),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0 or not out.exists():
            tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-25:])
            raise RuntimeError(
                f"{module}.{function} failed (exit code {completed.returncode}):\n{tail}"
            )
        return json.loads(out.read_text())


def figures_from(data: Any) -> list[Figure]:
    return [Figure.from_dict(item) for item in data]


def _to_json(value: Any) -> Any:
    # Not isinstance(value, Figure): run as ``-m benchmarks.common`` this module is
    # __main__, and the benchmarks' Figure is benchmarks.common's, another class.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return [_to_json(item) for item in value]
    return value


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    # Simulated sends print what they would send, as Django's console email backend does.
    with open(os.devnull, "w") as devnull:
        saved, sys.stdout = sys.stdout, devnull
        try:
            yield
        finally:
            sys.stdout = saved


def _main(argv: list[str]) -> int:
    if argv[:1] == ["stub"]:
        serve_stub(int(argv[1]) if len(argv) > 1 else 0)
        return 0
    if argv[:1] == ["call"] and len(argv) == 4:
        _, module, function, out = argv
        kwargs = json.loads(sys.stdin.read() or "{}")
        with _quiet_stdout():
            result = getattr(importlib.import_module(module), function)(**kwargs)
        Path(out).write_text(json.dumps(_to_json(result)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
