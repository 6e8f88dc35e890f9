"""Figure 4: ``django.setup()`` plus ``manage.py check``, with patchbay vs without.

Each start is a fresh interpreter (what a deploy, a worker or a management
command pays), with every extra installed; the project with patchbay also
mounts its URLs, as a real one does. The SDKs must not be imported at start:
patchbay imports them only when a live call needs them. Target: at most 1.10x
the same project without patchbay (a ratio: the milliseconds drift twofold run
to run on a shared machine, the ratio much less), and no SDK module imported.
The notes give the difference in milliseconds.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import types
from typing import Any

from benchmarks.common import Figure, call_in_subprocess

TARGET_RATIO = 1.10
# Modules that the extras install; none of them may be imported by a start.
SDK_MODULES = (
    "stripe",
    "twilio",
    "boto3",
    "botocore",
    "storages",
    "requests",
    "phonenumbers",
    "django_redis",
    "redis",
)


def run(quick: bool) -> list[Figure]:
    rounds = 3 if quick else 25
    timings: dict[bool, list[float]] = {False: [], True: []}
    imported: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="patchbay-bench-pycache-") as pycache:
        # Installed code has its bytecode compiled (pip does it), but an editable
        # install under PYTHONDONTWRITEBYTECODE would compile patchbay at every start:
        # give both projects compiled bytecode, in a folder of their own.
        env = {"PYTHONDONTWRITEBYTECODE": None, "PYTHONPYCACHEPREFIX": pycache}

        def start(with_patchbay: bool) -> dict[str, Any]:
            kwargs = {"with_patchbay": with_patchbay}
            result: dict[str, Any] = call_in_subprocess(__name__, "one_start", kwargs, env=env)
            return result

        start(True), start(False)  # compile, and warm the disk cache
        for round_ in range(rounds):
            # Alternate which goes first, so that drift weighs on both alike.
            for with_patchbay in (True, False) if round_ % 2 else (False, True):
                one = start(with_patchbay)
                timings[with_patchbay].append(one["ms"])
                imported.update(one["sdk_modules"])
    without, with_ = statistics.median(timings[False]), statistics.median(timings[True])
    # The difference within each round (its two starts ran back to back), then the
    # median: steadier than the difference of medians when the machine's speed drifts.
    added = statistics.median(a - b for a, b in zip(timings[True], timings[False], strict=True))
    # The ratio within each round, then the median, for the same reason.
    ratio = statistics.median(a / b for a, b in zip(timings[True], timings[False], strict=True))
    return [
        Figure(
            name="Start-up: django.setup() + check",
            baseline="same project without patchbay",
            baseline_value=without,
            value=with_,
            unit="ms",
            ratio=ratio,
            target=f"<= {TARGET_RATIO:.2f}x, no SDK imported",
            met=ratio <= TARGET_RATIO and not imported,
            notes=f"+{added:.1f} ms (medians {with_:.0f} vs {without:.0f} ms); "
            f"fastest starts {min(timings[True]):.0f} vs "
            f"{min(timings[False]):.0f} ms (+{min(timings[True]) - min(timings[False]):.1f} ms); "
            "SDK modules imported: "
            f"{', '.join(sorted(imported)) or 'none'}; median of {rounds} fresh processes each, "
            "the ratio and the difference being the medians of each round's",
        )
    ]


def one_start(with_patchbay: bool) -> dict[str, Any]:
    """Time one start in this fresh process: settings, ``django.setup()``, ``check``."""
    settings = _settings_module(with_patchbay)
    sys.modules[settings.__name__] = settings
    import os

    os.environ["DJANGO_SETTINGS_MODULE"] = settings.__name__
    started, cpu_started = time.perf_counter(), time.process_time()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("check", verbosity=0)
    elapsed = (time.perf_counter() - started) * 1000
    cpu = (time.process_time() - cpu_started) * 1000
    imported = [name for name in SDK_MODULES if name in sys.modules]
    return {"ms": elapsed, "cpu_ms": cpu, "sdk_modules": imported}


def _settings_module(with_patchbay: bool) -> types.ModuleType:
    apps = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
    ]
    settings = types.ModuleType("bench_startup_settings")
    settings.__dict__.update(
        SECRET_KEY="patchbay-benchmarks-not-a-secret",
        DEBUG=False,
        ALLOWED_HOSTS=["127.0.0.1"],
        USE_TZ=True,
        INSTALLED_APPS=[*apps, "patchbay"] if with_patchbay else apps,
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        TEMPLATES=[
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
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": f"{tempfile.gettempdir()}/patchbay-bench-startup.sqlite3",
            }
        },
        ROOT_URLCONF="benchmarks.urls" if with_patchbay else "benchmarks.bench_startup",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        STATIC_URL="/static/",
        # Local memory in production is what W004 warns about; the warning is not the point.
        SILENCED_SYSTEM_CHECKS=["patchbay.W004"],
    )
    return settings


def _admin_urls() -> list[Any]:
    from django.contrib import admin
    from django.urls import path

    return [path("admin/", admin.site.urls)]


def __getattr__(name: str) -> Any:
    # This module doubles as the URLconf of the project without patchbay.
    if name == "urlpatterns":
        return _admin_urls()
    raise AttributeError(name)
