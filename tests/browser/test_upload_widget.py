"""The example's upload widget in headless Chromium, against the example served by runserver.

Sign in → upload a PNG → the progress bar reaches 100% → the list shows it
complete with its real size → its link returns its bytes; a file over the
limit, or of a type patchbay refuses (HTML, SVG, an executable), is refused
with a clear message and nothing stored; a form the bucket refuses shows the
bucket's own message; Back after opening a file shows the list as it is now;
Delete asks first: cancelling keeps the file, confirming removes it.

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

from tests.browser.conftest import (
    TIMEOUT_MS,
    assert_accessible,
    example_server,
    sign_in,
    sign_in_to_admin,
)
from tests.test_example_files import PNG

pytestmark = pytest.mark.browser

LIMIT = 64 * 1024
SIDECAR = ".patchbay-meta.json"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "_static" / "screenshots"


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
    """A page of the upload demo, signed in through the admin's login page as the demos are."""
    context = chromium.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
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
    href = row.get_by_role("link", name="pixel.png", exact=True).get_attribute("href")
    opened = page.context.request.get(href)  # the page's cookies; follows the redirect
    assert opened.ok
    assert opened.body() == PNG
    assert _stored_files(server) == ["pixel.png"]


def test_a_file_over_the_limit_is_refused_clearly_and_not_stored(page, server):
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
    assert_accessible(page)  # with the error shown and a file listed
    page.screenshot(path=SCREENSHOTS / "example-upload.png")


@pytest.mark.parametrize(
    ("name", "mime_type", "message"),
    [
        ("page.html", "text/html", "Files of type text/html may not be uploaded."),
        ("drawing.svg", "image/svg+xml", "Files of type image/svg+xml may not be uploaded."),
        (
            "setup.exe",
            "application/x-msdownload",
            "Files of type application/x-msdownload may not be uploaded.",
        ),
        # A harmless declared type does not launder a name read as a page.
        ("page.html", "image/png", "Files named like 'page.html' (text/html) may not be uploaded."),
    ],
)
def test_a_type_patchbay_refuses_is_refused_with_its_reason(page, server, name, mime_type, message):
    from playwright.sync_api import expect

    _choose(page, name, b"<html><script>alert(1)</script></html>", mime_type)

    expect(page.locator("#upload-error")).to_have_text(f"Not uploaded: {message}")
    expect(page.locator("#upload-status")).to_have_text("")
    expect(_row(page, name)).to_have_count(0)
    assert _stored_files(server) == ["pixel.png"]


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


def test_back_after_opening_a_file_shows_the_current_list(page, server):
    from playwright.sync_api import expect

    _choose(page, "second.png", PNG)
    expect(_row(page, "second.png")).to_have_attribute("data-status", "complete")
    page.get_by_role("link", name="second.png", exact=True).click()
    page.wait_for_url(lambda url: "/files/" not in url)  # the file itself, in the bucket

    page.go_back()

    # Drawn again by the server (the page is never cached), not the list before the upload.
    expect(_row(page, "second.png")).to_have_attribute("data-status", "complete")
    expect(_row(page, "pixel.png")).to_have_count(1)


def test_the_list_is_never_served_from_the_browsers_cache(page):
    for path in ("/files/", "/files/list/"):
        answer = page.context.request.get(path)
        assert "no-store" in answer.headers["cache-control"], path


def test_delete_asks_first_and_cancelling_keeps_the_file(page, server):
    from playwright.sync_api import expect

    _row(page, "pixel.png").get_by_role("link", name="Delete pixel.png").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Delete pixel.png?")
    assert_accessible(page)
    page.get_by_role("link", name="Cancel, keep it").click()
    page.wait_for_url("**/files/")
    expect(_row(page, "pixel.png")).to_have_attribute("data-status", "complete")
    assert _stored_files(server) == ["pixel.png", "second.png"]


def test_confirming_delete_removes_the_file_and_back_shows_it_gone(page, server):
    from playwright.sync_api import expect

    _row(page, "pixel.png").get_by_role("link", name="Delete pixel.png").click()
    page.get_by_role("button", name="Delete pixel.png").click()

    page.wait_for_url("**/files/")
    expect(page.locator("ul.messages li.success")).to_have_text("Deleted pixel.png.")
    expect(_row(page, "pixel.png")).to_have_count(0)
    assert _stored_files(server) == ["second.png"]

    page.go_back()  # the question again, for a file that is gone: back to the list
    page.wait_for_url("**/files/")
    expect(page.locator("ul.messages li.info")).to_have_text("pixel.png is already deleted.")
    expect(_row(page, "pixel.png")).to_have_count(0)
    expect(_row(page, "second.png")).to_have_count(1)


def test_delete_asks_first_with_javascript_off_too(chromium, server):
    from playwright.sync_api import expect

    context = chromium.new_context(base_url=server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in_to_admin(page)
        page.goto("/files/")
        _row(page, "second.png").get_by_role("link", name="Delete second.png").click()
        page.get_by_role("button", name="Delete second.png").click()
        page.wait_for_url("**/files/")
        expect(page.locator("ul.messages li.success")).to_have_text("Deleted second.png.")
        expect(_row(page, "second.png")).to_have_count(0)
    finally:
        context.close()
    assert _stored_files(server) == []
