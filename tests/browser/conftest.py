"""What the browser tests share: headless Chromium and the example project under runserver.

Skipped without ``/usr/bin/chromium`` (Debian's ``chromium``) or Playwright
(``pip install --group browser``), unless ``PATCHBAY_BROWSER_TESTS=1``, as CI
sets it: then a missing browser fails the test, so a green CI proves it ran.
Playwright drives the system Chromium; it never downloads a browser.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.test_example_project import EXAMPLE

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # No network here but the loopback: without these Chromium keeps trying to reach
    # Google's services, and logs every refused connection.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRED = os.environ.get("PATCHBAY_BROWSER_TESTS") == "1"
TIMEOUT_MS = 15_000
USERNAME = "ada"
PASSWORD = "a browser test password"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install --group browser)"
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    reason = _missing()
    if reason is not None:
        if REQUIRED:
            pytest.fail(f"PATCHBAY_BROWSER_TESTS=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"runserver exited:\n{log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (our own)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"runserver did not answer at {url}:\n{log.read_text()}", pytrace=False)


@contextlib.contextmanager
def example_server(
    directory: Path,
    settings: Mapping[str, str],
    prepare: Callable[[Callable[..., None]], None] | None = None,
) -> Iterator[str]:
    """The example project under runserver on a free port, with SQLite in ``directory``.

    ``settings`` are environment variables the example reads; a superuser
    ``USERNAME`` exists; ``prepare(manage)`` may run more commands before it
    serves. Yields its URL.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="example.settings",
        DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
        MEDIA_ROOT=str(directory / "media"),
        DEBUG="True",
        PATCHBAY_SIMULATE="",  # simulation follows DEBUG, as the example always does
        ALLOWED_HOSTS="127.0.0.1",
        PATCHBAY_PUBLIC_URL="",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        PYTHONUNBUFFERED="1",
        **settings,
    )

    def manage(*arguments: str, stdin: str | None = None) -> None:
        completed = subprocess.run(  # noqa: S603  (our own interpreter and arguments)
            [sys.executable, "manage.py", *arguments],
            cwd=EXAMPLE,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr

    manage("migrate", "--noinput", "--verbosity", "0")
    manage("createsuperuser", "--noinput", "--username", USERNAME, "--email", "ada@example.com")
    if prepare is not None:
        prepare(manage)
    port = _free_port()
    log = directory / "runserver.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=EXAMPLE,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_serving(url + "/", process, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sign_in_to_admin(page: Any) -> None:
    """Sign ``page`` (its context's ``base_url`` an :func:`example_server`) in as the superuser."""
    page.goto("/admin/login/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


SERIOUS_IMPACTS = frozenset({"serious", "critical"})


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on ``page``, one line per rule and element.

    axe-core is the copy bundled with axe-playwright-python: nothing is fetched.
    """
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {', '.join(map(str, node['target']))}"
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS_IMPACTS
        for node in violation["nodes"]
    ]


def assert_accessible(page: Any) -> None:
    """Fail, listing each rule and element, if axe-core finds a serious or critical violation."""
    found = serious_violations(page)
    assert not found, f"axe-core on {page.url}:\n" + "\n".join(found)


def sign_in(
    page: Any, username: str = USERNAME, password: str = PASSWORD, next_url: str = "/"
) -> None:
    """Sign ``page`` in on the example's own sign-in page, then wait for ``next_url``."""
    page.goto(f"/accounts/login/?next={next_url}")
    submit_sign_in(page, username, password)
    page.wait_for_url(f"**{next_url}")


def submit_sign_in(page: Any, username: str, password: str) -> None:
    """Fill in and submit the sign-in form ``page`` shows."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()
