#!/usr/bin/env python3
"""Set up a development environment, then run the example project or the tests.

    python3 dev.py example [--port 8000]   # the example project at http://127.0.0.1:8000/
    python3 dev.py example --worker        # ... with background work in a db_worker process
    python3 dev.py test [pytest args...]   # the test suite (paths are relative to the repo root)
    python3 dev.py test --python 3.13 --django 6.1 [pytest args...]   # another Python/Django

Both create ``.venv`` in the repository if it is missing and install the
package (editable, every extra) with the ``test`` dependency group into it.
``test --python X.Y`` and ``--django X.Y`` (given before any pytest argument)
use a virtual environment of their own instead, such as ``.venv-py313-django61``,
made with that interpreter (found on PATH or in pyenv's versions directory) and
holding the latest release of that Django series. The install is redone only
when pyproject.toml changes. Standard library only, so it runs on a machine
that has nothing but Python and access to PyPI.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
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

# The options of ``dev.py test`` that are dev.py's own, each with an example value;
# anything else goes to pytest.
TEST_OPTIONS = {"--python": "3.13", "--django": "6.1"}
SERIES = re.compile(r"[0-9]+\.[0-9]+")
REPORT_VERSION = "import sys; print('%d.%d' % sys.version_info[:2])"

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
    command: Sequence[str | Path],
    *,
    env: dict[str, str] | None = None,
    capture: bool = False,
    hint: str = "",
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
        fail(f"{' '.join(arguments)} failed (exit code {completed.returncode}).{hint}")
    return completed.stdout or ""


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def install_fingerprint(venv: Path, install_args: Sequence[str]) -> str:
    """Changes whenever the install would differ: dependencies, install command or Python."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update((venv / "pyvenv.cfg").read_bytes())
    digest.update(" ".join([PIP_REQUIREMENT, *install_args]).encode())
    return digest.hexdigest()


def ensure_venv(
    venv: Path = VENV, base_python: str = sys.executable, django: str | None = None
) -> None:
    """Create ``venv`` and install the project into it, unless that is already done.

    ``django`` ("6.1") pins the latest release of that series; otherwise pip picks one.
    """
    python = venv_python(venv)
    stamp = venv / STAMP.name
    install_args = list(INSTALL_ARGS)
    hint = ""
    if django is not None:
        major, minor = (int(part) for part in django.split("."))
        install_args.append(f"django>={major}.{minor},<{major}.{minor + 1}")
        hint = f" Does Django {django} support that Python? See README.md, Supported versions."
    if not python.exists():
        say(f"Creating a virtual environment in {venv}")
        if subprocess.run([base_python, "-m", "venv", str(venv)], check=False).returncode:
            fail(
                "could not create the virtual environment. On Debian or Ubuntu, install "
                "Python's venv module first: apt-get install python3-venv"
            )
        if venv != VENV:
            # What Python 3.13's venv does by itself: keep git, and so ruff, out of it.
            (venv / ".gitignore").write_text("*\n")
    fingerprint = install_fingerprint(venv, install_args)
    if stamp.exists() and stamp.read_text().strip() == fingerprint:
        return
    say(f"Making sure {venv.name} has {PIP_REQUIREMENT} (needed for dependency groups)")
    run([python, "-m", "pip", "install", "--quiet", PIP_REQUIREMENT])
    what = f", Django {django}.x," if django else ""
    say(
        f"Installing django-patchbay (editable, all extras){what} and the test "
        f"dependencies into {venv.name}"
    )
    run([python, "-m", "pip", "install", "--quiet", *install_args], hint=hint)
    stamp.write_text(fingerprint + "\n")
    say("Environment ready; it is reinstalled only when pyproject.toml changes")


def python_version(python: str) -> str | None:
    """``"3.13"`` for an interpreter that runs; None for one that does not (a pyenv shim
    of a version that is not selected fails like that)."""
    try:
        completed = subprocess.run(
            [python, "-c", REPORT_VERSION],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = completed.stdout.strip()
    return version if completed.returncode == 0 and SERIES.fullmatch(version) else None


def pyenv_versions_dir() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"


def find_python(wanted: str) -> tuple[str, str]:
    """The interpreter and its version for ``--python``: a version ("3.13") or a path."""
    if not SERIES.fullmatch(wanted):
        version = python_version(wanted)
        if version is None:
            fail(f"--python {wanted}: not a version such as 3.13, nor a Python that runs.")
        return wanted, version
    candidates = []
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == wanted:
        candidates.append(sys.executable)
    on_path = shutil.which(f"python{wanted}")
    if on_path:
        candidates.append(on_path)
    # pyenv installs each version under versions/3.13.0 and so on; newest patch first.
    # Names such as 3.13.0t (free-threaded) or 3.13-dev do not match and are left alone.
    versions = pyenv_versions_dir()
    installed = re.compile(re.escape(wanted) + r"(\.[0-9]+)?")
    if versions.is_dir():
        found = [entry for entry in versions.iterdir() if installed.fullmatch(entry.name)]
        found.sort(key=lambda entry: [int(part) for part in entry.name.split(".")], reverse=True)
        candidates.extend(str(entry / "bin" / f"python{wanted}") for entry in found)
    for candidate in candidates:
        if python_version(candidate) == wanted:
            return candidate, wanted
    fail(
        f"Python {wanted} not found: no python{wanted} on PATH that runs, and none in "
        f"pyenv's versions directory ({versions}). Install it (for example "
        f"`pyenv install {wanted}`) or pass --python /path/to/python{wanted}."
    )


def split_test_options(arguments: list[str]) -> tuple[dict[str, str], list[str]]:
    """Take dev.py's own options (``--python 3.13``, ``--django=6.1``) off the front of
    ``dev.py test``'s arguments; the rest is pytest's."""
    options: dict[str, str] = {}
    rest = list(arguments)
    while rest:
        name, equals, value = rest[0].partition("=")
        if name not in TEST_OPTIONS:
            break
        rest.pop(0)
        if not equals:
            if not rest:
                fail(f"{name} needs a value, for example {name} {TEST_OPTIONS[name]}")
            value = rest.pop(0)
        options[name] = value
    django = options.get("--django")
    if django is not None and not SERIES.fullmatch(django):
        fail(f"--django {django}: give a release series such as 6.1")
    return options, rest


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


def run_beside(
    command: Sequence[str | Path], helper: Sequence[str | Path], env: dict[str, str]
) -> NoReturn:
    """Run ``command`` with ``helper`` beside it; stop ``helper`` when ``command`` ends.

    The helper gets a session of its own: Ctrl+C stops runserver, then dev.py
    stops the helper (with its autoreloader's child, the whole group) itself.
    """
    helper_process = subprocess.Popen(
        [str(part) for part in helper], cwd=ROOT, env=env, start_new_session=os.name == "posix"
    )
    try:
        code = subprocess.call([str(part) for part in command], cwd=ROOT, env=env)
    except KeyboardInterrupt:
        code = 130
    finally:
        stop(helper_process)
    sys.exit(code)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask ``process`` (its group, on POSIX) to stop; kill it if it has not within 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (getattr(signal, "SIGKILL", signal.SIGTERM), 5)):
        if process.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(process.pid, sig)
            else:
                process.terminate()
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def command_example(port: int, worker: bool) -> NoReturn:
    ensure_venv()
    # Settings come from example_project/example/settings.py (DEBUG on by default, so
    # simulation too), the environment and an optional .env file; see .env.example.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "example.settings"}
    if worker:
        env["BACKGROUND_WORKER"] = "true"
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
        + ("  Background work   a db_worker process beside runserver\n" if worker else "")
        + "  Stop with Ctrl+C.\n",
        flush=True,
    )
    if worker:
        run_beside([*manage, "runserver", address], [*manage, "db_worker"], env)
    hand_over([*manage, "runserver", address], env)


def command_test(arguments: list[str]) -> NoReturn:
    options, pytest_args = split_test_options(arguments)
    venv, base_python, django = VENV, sys.executable, options.get("--django")
    if options:
        # Another Python or Django gets a virtual environment of its own, so that
        # .venv stays what `python3 dev.py test` always uses.
        if "--python" in options:
            base_python, version = find_python(options["--python"])
        else:
            version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        name = ".venv-py" + version.replace(".", "")
        if django is not None:
            name += "-django" + django.replace(".", "")
        venv = ROOT / name
    ensure_venv(venv, base_python, django)
    # pyproject.toml names the test settings; DATABASE_URL and REDIS_URL pass through
    # to switch the suite to PostgreSQL and Redis.
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    servers = [name for name in ("DATABASE_URL", "REDIS_URL") if env.get(name)]
    where = f" in {venv.name}" if venv != VENV else ""
    say("Running the test suite" + where + (f" with {' and '.join(servers)}" if servers else ""))
    hand_over([venv_python(venv), "-m", "pytest", *pytest_args], env)


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
    example.add_argument(
        "--worker",
        action="store_true",
        help="process webhooks and send emails and SMS in a db_worker process beside runserver",
    )
    commands.add_parser(
        "test",
        help=(
            "run the test suite; --python X.Y and --django X.Y first pick another "
            "interpreter and Django (a venv of their own), every further argument goes to pytest"
        ),
        add_help=False,
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
        command_example(arguments.port, arguments.worker)
    command_test([])


if __name__ == "__main__":
    main(sys.argv[1:])
