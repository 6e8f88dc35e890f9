"""The example's upload widget in headless Chromium, against the example served by runserver.

Sign in → upload a PNG → the progress bar reaches 100% → the list shows it
complete with its real size → its link returns its bytes; a file over the
limit is refused with a clear message and nothing stored; a form the bucket
refuses shows the bucket's own message; Delete removes a file.

Skipped without Chromium or Playwright, unless ``PATCHBAY_BROWSER_TESTS=1``
(see ``tests/browser/conftest.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import TIMEOUT_MS, example_server, sign_in
from tests.test_example_files import PNG

pytestmark = pytest.mark.browser

LIMIT = 64 * 1024
SIDECAR = ".patchbay-meta.json"


@dataclass(frozen=True)
class Server:
    url: str
    media: Path


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The example project under runserver on a free port: SQLite, media in a temp dir."""
    directory = tmp_path_factory.mktemp("browser")
    settings = {
        "AWS_MAX_UPLOAD_SIZE": str(LIMIT),
        # Set, even empty, so that a developer's .env cannot change it.
        "AWS_UPLOAD_ALLOWED_CONTENT_TYPES": "",
    }
    with example_server(directory, settings) as url:
        yield Server(url=url, media=directory / "media")


@pytest.fixture(scope="module")
def page(chromium: Any, server: Server) -> Iterator[Any]:
    """A page of the upload demo, signed in on the example's sign-in page."""
    context = chromium.new_context(base_url=server.url, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, next_url="/files/")
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
