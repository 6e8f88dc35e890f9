"""The peers' virtual environment: dj-stripe, which the webhook benchmark compares against.

dj-stripe pins its own stripe SDK (older than patchbay's), so it cannot share
patchbay's ``.venv``: :func:`ensure` makes a virtual environment of its own at
:data:`benchmarks.common.PEERS_VENV` (``PATCHBAY_BENCH_PEERS_VENV``, default
``.venv-peers``) with ``python -m venv`` and installs :data:`REQUIREMENTS` from
the package index, without patchbay. A stamp file in it records what was
installed: the next run reuses it as long as :data:`REQUIREMENTS` are the same.

This module is also run by the peers' Python itself (it imports nothing but
the standard library at the top):

    python -m benchmarks.peers versions    # JSON: the versions installed in this venv
    python -m benchmarks.peers endpoint    # create the WebhookEndpoint dj-stripe verifies with
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

from benchmarks.common import PEERS_VENV, ROOT

# The one list of what the peers' venv gets. Django, gunicorn, the PostgreSQL driver and
# the cache backend at the versions patchbay's .venv has today, so that the two servers
# differ in the webhook app only; dj-stripe's own stripe SDK comes with it.
REQUIREMENTS = (
    "dj-stripe==2.11.0",
    "Django==5.2.19",
    "gunicorn==27.0.1",
    "psycopg[binary]==3.3.9",
    "django-redis==7.0.0",
)
# What the JSON result records of the peers' venv.
REPORTED = ("dj-stripe", "stripe", "Django", "gunicorn", "psycopg")
STAMP = "patchbay-bench-requirements.txt"
# The WebhookEndpoint the dj-stripe site verifies deliveries with: its URL has the UUID.
DJSTRIPE_UUID = "00000000-0000-4000-8000-00000000b00c"
DJSTRIPE_PATH = f"/djstripe/webhook/{DJSTRIPE_UUID}/"


class PeersUnavailable(Exception):
    """The peers' venv could not be made or used; the message says why."""


def python(venv_dir: Path = PEERS_VENV) -> Path:
    return venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _stamp_text() -> str:
    return "\n".join(REQUIREMENTS) + "\n"


def ready(venv_dir: Path = PEERS_VENV) -> bool:
    """Whether the venv exists with exactly :data:`REQUIREMENTS` installed."""
    stamp = venv_dir / STAMP
    return python(venv_dir).exists() and stamp.exists() and stamp.read_text() == _stamp_text()


def ensure(venv_dir: Path = PEERS_VENV, *, timeout: float = 900) -> Path:
    """The peers' Python, after making the venv when missing or stale.

    Raises :class:`PeersUnavailable` (with pip's last lines) when it cannot be made,
    e.g. offline: the benchmark then reports the dj-stripe figures as skipped.
    """
    if ready(venv_dir):
        return python(venv_dir)
    if venv_dir.is_dir() and any(venv_dir.iterdir()) and not (venv_dir / "pyvenv.cfg").exists():
        # Remade from scratch below: never empty a folder that is not a virtual environment.
        raise PeersUnavailable(f"{venv_dir} exists and is not a virtual environment")
    if venv_dir.is_dir():
        (venv_dir / STAMP).unlink(missing_ok=True)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
        completed = subprocess.run(
            [str(python(venv_dir)), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             *REQUIREMENTS],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise PeersUnavailable(f"making {venv_dir} failed: {type(exc).__name__}: {exc}") from exc
    if completed.returncode:
        tail = " ".join((completed.stderr or completed.stdout).strip().splitlines()[-3:])[-400:]
        raise PeersUnavailable(f"pip could not install the peers into {venv_dir}: {tail}")
    (venv_dir / STAMP).write_text(_stamp_text())
    return python(venv_dir)


def environment(**extra: str) -> dict[str, str]:
    """The environment of a process run with the peers' Python, from ROOT.

    Only ROOT on ``PYTHONPATH`` (for ``benchmarks._djstripe_site``): nothing of
    patchbay's ``.venv`` or ``src`` leaks in.
    """
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV"}}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def versions(venv_dir: Path = PEERS_VENV) -> dict[str, str | None] | None:
    """The :data:`REPORTED` versions installed in the venv; None when it is not made."""
    if not ready(venv_dir):
        return None
    try:
        completed = subprocess.run(
            [str(python(venv_dir)), "-m", "benchmarks.peers", "versions"],
            cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        found: dict[str, str | None] = json.loads(completed.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return found


# -- run by the peers' Python ------------------------------------------------------------------


def installed_versions(names: tuple[str, ...] = REPORTED) -> dict[str, str | None]:
    """The versions of ``names`` installed where this runs (None: not installed)."""
    from importlib import metadata

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _create_endpoint() -> None:
    """The ``WebhookEndpoint`` (secret and UUID) and the account its events resolve to.

    With a test-mode account and API key, storing an event calls no Stripe API
    (dj-stripe would otherwise retrieve the account).
    """
    import django

    django.setup()
    from django.conf import settings
    from djstripe.models import Account, APIKey, WebhookEndpoint  # type: ignore[import-not-found]

    account = Account.objects.create(id="acct_benchmark", livemode=False)
    APIKey.objects.create(
        secret=settings.STRIPE_TEST_SECRET_KEY,  # type: ignore[misc]  # dj-stripe's setting
        type="secret",
        livemode=False,
        djstripe_owner_account=account,
    )
    WebhookEndpoint.objects.create(
        id="we_benchmark",
        secret=os.environ["STRIPE_WEBHOOK_SECRET"],
        url=f"http://127.0.0.1{DJSTRIPE_PATH}",
        djstripe_uuid=DJSTRIPE_UUID,
        livemode=False,
        api_version="2025-03-31.basil",
        enabled_events=["*"],
        status="enabled",
    )


def _main(argv: list[str]) -> int:
    if argv == ["versions"]:
        print(json.dumps(installed_versions()))
        return 0
    if argv == ["endpoint"]:
        _create_endpoint()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
