"""Every demo page of the example, as a visitor and as the superuser, at desktop and phone width.

From the home page, each page it links to (but the Django admin's and the
JSON status view, which are not the example's pages) must fit a 390 px
phone without horizontal scrolling and have no serious or critical
accessibility violation reported by axe-core. The browser asks for
``/favicon.ico`` by itself: it must be there.

Skipped without Chromium or Playwright, unless ``PATCHBAY_BROWSER_TESTS=1``
(see ``tests/browser/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import (
    TIMEOUT_MS,
    example_server,
    serious_violations,
    sign_in_to_admin,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "_static" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Not the example's own pages: Django's admin, and JSON.
NOT_DEMO_PAGES = ("/admin/", "/integrations/")


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with example_server(tmp_path_factory.mktemp("look"), {}) as url:
        yield url


def _context(chromium: Any, server: str, viewport: dict[str, int], signed_in: bool) -> Any:
    context = chromium.new_context(base_url=server, viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    if signed_in:
        sign_in_to_admin(context.new_page())
    return context


def _demo_pages(page: Any) -> list[str]:
    """The paths of the example's pages that the home page links to, home first."""
    page.goto("/")
    origin = urlsplit(page.url).netloc
    paths = ["/"]
    for href in page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)"):
        parts = urlsplit(href)
        if parts.netloc != origin or parts.path.startswith(NOT_DEMO_PAGES):
            continue
        if parts.path not in paths:
            paths.append(parts.path)
    return paths


def _problems(page: Any, path: str, width: int) -> list[str]:
    response = page.goto(path)
    if urlsplit(page.url).path.startswith(NOT_DEMO_PAGES):
        return []  # a demo that needs a login, sending a visitor to sign in
    problems = []
    if response is None or not response.ok:
        problems.append(f"{path}: answered {response.status if response else 'nothing'}")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        problems.append(f"{path}: {scroll_width} px wide in a {width} px window")
    problems += [f"{path}: {violation}" for violation in serious_violations(page)]
    return problems


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "superuser"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_every_demo_page_fits_and_is_accessible(chromium, server, viewport, signed_in):
    context = _context(chromium, server, viewport, signed_in)
    try:
        page = context.new_page()
        paths = _demo_pages(page)
        # The home page links every demo: a shorter list means the walk tested little.
        assert len(paths) >= 8, paths
        problems = [
            problem for path in paths for problem in _problems(page, path, viewport["width"])
        ]
        assert not problems, "\n".join(problems)
        if signed_in:
            name = "example-home.png" if viewport is DESKTOP else "example-phone.png"
            page.goto("/")
            page.screenshot(path=SCREENSHOTS / name)
    finally:
        context.close()


def test_the_favicon_is_linked_and_served(chromium, server):
    context = _context(chromium, server, DESKTOP, signed_in=False)
    try:
        page = context.new_page()
        page.goto("/")
        linked = page.eval_on_selector("link[rel=icon]", "link => link.href")
        icon = context.request.get(linked)
        assert icon.ok
        assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
        # Browsers ask for /favicon.ico whatever the page links.
        fallback = context.request.get("/favicon.ico")
        assert fallback.ok
        assert fallback.body() == icon.body()
    finally:
        context.close()
