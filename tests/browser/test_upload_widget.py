"""The example's upload widget in headless Chromium, against the example served by runserver.

Sign in → upload a PNG → the progress bar reaches 100% → the list shows it
complete with its real size → its link returns its bytes; a file over the
limit is refused with a clear message and nothing stored; a form the bucket
refuses shows the bucket's own message; Delete removes a file.

Skipped without ``/usr/bin/chromium`` (Debian's ``chromium``) or Playwright
(``pip install --group browser``), unless ``PATCHBAY_BROWSER_TESTS=1``, as CI
sets it: then a missing browser fails the test, so a green CI proves it ran.
Playwright drives the system Chromium; it never downloads a browser.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.test_example_files import PNG
from tests.test_example_project import EXAMPLE

pytestmark = pytest.mark.browser

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
LIMIT = 64 * 1024
USERNAME = "ada"
PASSWORD = "a browser test password"
TIMEOUT_MS = 15_000
SIDECAR = ".patchbay-meta.json"


@dataclass(frozen=True)
class Server:
    url: str
    media: Path


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


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The example project under runserver on a free port: SQLite, media in a temp dir."""
    directory = tmp_path_factory.mktemp("browser")
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
        AWS_MAX_UPLOAD_SIZE=str(LIMIT),
        # Set, even empty, so that a developer's .env cannot change them.
        AWS_UPLOAD_ALLOWED_CONTENT_TYPES="",
        PATCHBAY_PUBLIC_URL="",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        PYTHONUNBUFFERED="1",
    )

    def manage(*arguments: str) -> None:
        completed = subprocess.run(  # noqa: S603  (our own interpreter and arguments)
            [sys.executable, "manage.py", *arguments],
            cwd=EXAMPLE,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr

    manage("migrate", "--noinput", "--verbosity", "0")
    manage("createsuperuser", "--noinput", "--username", USERNAME, "--email", "ada@example.com")
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
            yield Server(url=url, media=directory / "media")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def page(chromium: Any, server: Server) -> Iterator[Any]:
    """A page of the upload demo, signed in through the admin's login page as the demos are."""
    context = chromium.new_context(base_url=server.url, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/files/")  # → the login page, then back here
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/files/")
    yield page
    context.close()


def _choose(page: Any, name: str, content: bytes, mime_type: str = "image/png") -> None:
    page.set_input_files(
        "#upload-file", files=[{"name": name, "mimeType": mime_type, "buffer": content}]
    )
    page.click("#upload-widget button[type=submit]")


def _stored_files(server: Server) -> list[str]:
    """The file names in the simulated bucket, from the disk itself."""
    return sorted(
        path.name
        for path in server.media.rglob("*")
        if path.is_file() and not path.name.endswith(SIDECAR)
    )


def _row(page: Any, filename: str) -> Any:
    return page.locator("#upload-list tr", has_text=filename)


def test_a_png_is_uploaded_with_progress_listed_and_readable(page, server):
    from playwright.sync_api import expect

    _choose(page, "pixel.png", PNG)

    expect(page.locator("#upload-status")).to_have_text(f"Uploaded pixel.png ({len(PNG)} bytes).")
    expect(page.locator("#upload-error")).to_be_hidden()
    # Set by XMLHttpRequest's upload progress events alone.
    expect(page.locator("#upload-progress")).to_have_js_property("value", 100)
    expect(page.locator("#upload-percent")).to_have_text("100%")
    row = _row(page, "pixel.png")
    expect(row).to_have_attribute("data-status", "complete")
    expect(row.locator(".badge")).to_have_text("complete")
    expect(row.locator("td.size")).to_have_attribute("data-bytes", str(len(PNG)))
    href = row.locator("a").get_attribute("href")
    opened = page.context.request.get(href)  # the page's cookies; follows the redirect
    assert opened.ok
    assert opened.body() == PNG
    assert _stored_files(server) == ["pixel.png"]


def test_a_file_over_the_limit_is_refused_clearly_and_not_stored(page, server, tmp_path):
    from playwright.sync_api import expect

    _choose(page, "huge.png", PNG + bytes(2 * LIMIT))

    expect(page.locator("#upload-error")).to_have_text(
        "Not uploaded: huge.png is 128.1 KB, larger than the 64.0 KB limit."
    )
    expect(page.locator("#upload-status")).to_have_text("")
    expect(page.locator("#upload-percent")).to_have_text("0%")
    expect(_row(page, "pixel.png")).to_have_count(1)
    expect(_row(page, "huge.png")).to_have_count(0)  # the list shows pending rows too
    assert _stored_files(server) == ["pixel.png"]
    screenshot = tmp_path / "upload-widget.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0


def test_a_form_the_bucket_refuses_shows_the_buckets_message(page, server):
    from playwright.sync_api import expect

    def tamper(route: Any) -> None:
        # As a browser that changed the form would: the policy no longer matches.
        answer = route.fetch()
        credentials = answer.json()
        credentials["form_fields"]["Content-Type"] = "image/gif"
        route.fulfill(response=answer, body=json.dumps(credentials))

    page.route("**/integrations/uploads/credentials/", tamper)
    try:
        _choose(page, "tampered.png", PNG)
        error = page.locator("#upload-error")
        expect(error).to_contain_text("The bucket refused the file: ")
        expect(error).to_contain_text("(AccessDenied)")
        expect(page.locator("#upload-percent")).to_have_text("0%")
    finally:
        page.unroute("**/integrations/uploads/credentials/")
    row = _row(page, "tampered.png")
    expect(row).to_have_attribute("data-status", "failed")  # confirmed as never arrived
    expect(row).to_contain_text("The file never reached the bucket.")
    assert _stored_files(server) == ["pixel.png"]


def test_delete_removes_the_file_from_the_list_and_the_bucket(page, server):
    from playwright.sync_api import expect

    _row(page, "pixel.png").get_by_role("button", name="Delete").click()

    expect(page.locator("#upload-status")).to_have_text("Deleted.")
    expect(_row(page, "pixel.png")).to_have_count(0)
    assert _stored_files(server) == []
