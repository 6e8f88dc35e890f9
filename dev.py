#!/usr/bin/env python3
"""Set up a development environment, then run the example project or the tests.

    python3 dev.py example [--port 8000]   # the example project at http://127.0.0.1:8000/
    python3 dev.py test [pytest args...]   # the test suite (paths are relative to the repo root)

Both create ``.venv`` in the repository if it is missing and install the
package (editable, every extra) with the ``test`` dependency group into it.
The install is redone only when pyproject.toml changes. Standard library only,
so it runs on a machine that has nothing but Python and access to PyPI.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".patchbay-dev-install"
EXAMPLE_MANAGE = ROOT / "example_project" / "manage.py"

# ``--group`` (PEP 735 dependency groups) arrived in pip 25.1.
PIP_REQUIREMENT = "pip>=25.1"
INSTALL_ARGS = ["-e", ".[all]", "--group", "test"]

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"  # noqa: S105  (a local development login, printed on start)
ENSURE_ADMIN = f"""
from django.contrib.auth import get_user_model
User = get_user_model()
if User.objects.filter(username={ADMIN_USERNAME!r}).exists():
    print("exists")
else:
    User.objects.create_superuser({ADMIN_USERNAME!r}, "admin@example.com", {ADMIN_PASSWORD!r})
    print("created")
"""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def fail(message: str) -> NoReturn:
    print(f"dev.py: error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(
    command: Sequence[str | Path], *, env: dict[str, str] | None = None, capture: bool = False
) -> str:
    """Run ``command`` from the repository root; a failure ends dev.py with a message."""
    arguments = [str(part) for part in command]
    try:
        completed = subprocess.run(
            arguments,
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            check=False,
        )
    except OSError as exc:
        fail(f"could not run {' '.join(arguments)}: {exc}")
    if completed.returncode != 0:
        fail(f"{' '.join(arguments)} failed (exit code {completed.returncode}).")
    return completed.stdout or ""


def install_fingerprint() -> str:
    """Changes whenever the install would differ: dependencies, install command or Python."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update((VENV / "pyvenv.cfg").read_bytes())
    digest.update(" ".join([PIP_REQUIREMENT, *INSTALL_ARGS]).encode())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the project into it, unless that is already done."""
    if not VENV_PYTHON.exists():
        say(f"Creating a virtual environment in {VENV}")
        if subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False).returncode:
            fail(
                "could not create the virtual environment. On Debian or Ubuntu, install "
                "Python's venv module first: apt-get install python3-venv"
            )
    fingerprint = install_fingerprint()
    if STAMP.exists() and STAMP.read_text().strip() == fingerprint:
        return
    say(f"Making sure .venv has {PIP_REQUIREMENT} (needed for dependency groups)")
    run([VENV_PYTHON, "-m", "pip", "install", "--quiet", PIP_REQUIREMENT])
    say("Installing django-patchbay (editable, all extras) and the test dependencies into .venv")
    run([VENV_PYTHON, "-m", "pip", "install", "--quiet", *INSTALL_ARGS])
    STAMP.write_text(fingerprint + "\n")
    say("Environment ready; it is reinstalled only when pyproject.toml changes")


def hand_over(command: Sequence[str | Path], env: dict[str, str]) -> NoReturn:
    """Become ``command``, so that Ctrl+C, kill and the exit code are its own."""
    arguments = [str(part) for part in command]
    os.chdir(ROOT)
    if os.name == "posix":
        os.execve(arguments[0], arguments, env)  # noqa: S606  (our own venv's python)
    try:
        sys.exit(subprocess.call(arguments, env=env))
    except KeyboardInterrupt:
        sys.exit(130)


def command_example(port: int) -> NoReturn:
    ensure_venv()
    # Settings come from example_project/example/settings.py (simulation on by default),
    # the environment and an optional .env file; see .env.example.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "example.settings"}
    manage = [VENV_PYTHON, EXAMPLE_MANAGE]
    say("Applying migrations")
    run([*manage, "migrate", "--no-input"], env=env)
    outcome = run([*manage, "shell", "--no-imports", "-c", ENSURE_ADMIN], env=env, capture=True)
    just_created = " (just created)" if "created" in outcome.split() else ""
    address = f"127.0.0.1:{port}"
    print(
        "\n"
        f"  Example project   http://{address}/\n"
        f"  Admin             http://{address}/admin/\n"
        f"  Admin login       username: {ADMIN_USERNAME}   password: {ADMIN_PASSWORD}"
        f"{just_created}\n"
        "  Stop with Ctrl+C.\n",
        flush=True,
    )
    hand_over([*manage, "runserver", address], env)


def command_test(pytest_args: list[str]) -> NoReturn:
    ensure_venv()
    # pyproject.toml names the test settings; DATABASE_URL and REDIS_URL pass through
    # to switch the suite to PostgreSQL and Redis.
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    servers = [name for name in ("DATABASE_URL", "REDIS_URL") if env.get(name)]
    say("Running the test suite" + (f" with {' and '.join(servers)}" if servers else ""))
    hand_over([VENV_PYTHON, "-m", "pytest", *pytest_args], env)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dev.py",
        description="Develop django-patchbay: run the example project or the test suite.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    example = commands.add_parser(
        "example", help="run the example project (simulated providers, admin login admin/admin)"
    )
    example.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    commands.add_parser(
        "test", help="run the test suite; every further argument goes to pytest", add_help=False
    )
    return parser


def main(argv: list[str]) -> NoReturn:
    if sys.version_info < (3, 10):  # noqa: UP036  (dev.py may be started by an older python3)
        fail(f"django-patchbay needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    # Everything after "test" belongs to pytest, options included, so argparse never sees it.
    if argv[:1] == ["test"]:
        command_test(argv[1:])
    arguments = build_parser().parse_args(argv)
    if arguments.command == "example":
        command_example(arguments.port)
    command_test([])


if __name__ == "__main__":
    main(sys.argv[1:])
