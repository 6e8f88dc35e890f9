"""The example's accounts in headless Chromium, against the example served by runserver.

Password sign-in and sign-out on the example's own page; a login-required page
while anonymous sends to that page and back; password reset from the request
to the link in the dev outbox, a weak password refused, a good one set, and
signing in with it lands on the example, never the admin; a sign-in link from
the outbox, through the scanner-safe confirm step, signs in once, and the same
link again shows the used-link page with a way back.

Skipped without Chromium or Playwright, unless ``PATCHBAY_BROWSER_TESTS=1``
(see ``tests/browser/conftest.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import (
    PASSWORD,
    TIMEOUT_MS,
    USERNAME,
    example_server,
    sign_in,
    submit_sign_in,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "_static" / "screenshots"
# A user who is not staff: the admin's login would refuse them.
CUSTOMER, CUSTOMER_EMAIL, CUSTOMER_PASSWORD = "grace", "grace@example.com", "first-Orbit-17"
NEW_PASSWORD = "second-Lantern-42"


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def prepare(manage: Any) -> None:
        manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user({CUSTOMER!r}, {CUSTOMER_EMAIL!r}, {CUSTOMER_PASSWORD!r})",
        )

    with example_server(tmp_path_factory.mktemp("accounts"), {}, prepare) as url:
        yield url


@contextlib.contextmanager
def _browsing(chromium: Any, server: str, *, scripts: bool = True) -> Iterator[Any]:
    context = chromium.new_context(
        base_url=server, viewport={"width": 1280, "height": 800}, java_script_enabled=scripts
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def _path(page: Any) -> str:
    parts = urlsplit(page.url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _newest_link(page: Any, fragment: str) -> str:
    """The href of the newest email's link containing ``fragment``, from the dev outbox."""
    page.goto("/accounts/outbox/")
    href: str = page.locator(f"main a[href*='{fragment}']").first.get_attribute("href")
    return href


def test_a_login_required_page_sends_an_anonymous_visitor_to_sign_in_and_back(chromium, server):
    from playwright.sync_api import expect

    with _browsing(chromium, server) as page:
        page.goto("/")
        demo = page.locator("main li", has_text="Subscriptions with Stripe Checkout")
        expect(demo.locator(".badge")).to_have_text("sign-in required")
        demo.get_by_role("link", name="Subscriptions with Stripe Checkout").click()

        page.wait_for_url("**/accounts/login/?next=/billing/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        expect(page.get_by_role("link", name="Email me a sign-in link instead")).to_be_visible()
        expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "example-sign-in.png")
        submit_sign_in(page, USERNAME, PASSWORD)

        page.wait_for_url("**/billing/")
        expect(page.locator("header .who")).to_have_text(f"Signed in as {USERNAME}")


def test_a_customer_signs_in_with_a_password_and_out(chromium, server):
    from playwright.sync_api import expect

    with _browsing(chromium, server) as page:
        page.goto("/")
        page.locator("header").get_by_role("link", name="Sign in").click()
        page.wait_for_url("**/accounts/login/")
        submit_sign_in(page, CUSTOMER, "not the password")
        expect(page.locator("main")).to_contain_text("Please enter a correct username and password")

        sign_in(page, CUSTOMER, CUSTOMER_PASSWORD)
        expect(page.locator("header .who")).to_have_text(f"Signed in as {CUSTOMER}")
        page.locator("header").get_by_role("button", name="Sign out").click()

        page.wait_for_url(f"{server}/")
        expect(page.locator("ul.messages li.info")).to_have_text("You are signed out.")
        expect(page.locator("header .who")).to_have_count(0)
        expect(page.locator("header").get_by_role("link", name="Sign in")).to_be_visible()


def test_a_password_reset_refuses_a_weak_password_and_lands_on_the_example(chromium, server):
    from playwright.sync_api import expect

    with _browsing(chromium, server) as page:
        page.goto("/accounts/login/")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Email").fill(CUSTOMER_EMAIL)
        page.get_by_role("button", name="Email me a reset link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

        page.goto(_newest_link(page, "/accounts/reset/"))
        page.wait_for_url("**/set-password/")
        page.get_by_label("New password:", exact=True).fill("12345678")
        page.get_by_label("New password confirmation").fill("12345678")
        page.get_by_role("button", name="Set my password").click()
        errors = page.locator("main .errorlist")
        expect(errors).to_contain_text("This password is too common.")
        expect(errors).to_contain_text("This password is entirely numeric.")
        page.screenshot(path=SCREENSHOTS / "example-password-reset.png")

        page.get_by_label("New password:", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Set my password").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your password is set")
        page.locator("main").get_by_role("link", name="sign in").click()

        page.wait_for_url("**/accounts/login/")
        submit_sign_in(page, CUSTOMER, NEW_PASSWORD)
        page.wait_for_url(f"{server}/")
        expect(page.locator("header .who")).to_have_text(f"Signed in as {CUSTOMER}")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "The django-patchbay example project"
        )


def _ask_for_a_link(page: Any) -> str:
    page.goto("/accounts/login/?next=/messaging/verify/")
    page.get_by_role("link", name="Email me a sign-in link instead").click()
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    from playwright.sync_api import expect

    expect(page.locator("main")).to_contain_text("a sign-in link is on its way")
    return _newest_link(page, "/integrations/login/")


def test_a_sign_in_link_confirms_signs_in_once_then_links_back(chromium, server):
    from playwright.sync_api import expect

    # No script: the confirm step stays on screen, as for a mail scanner, until the click.
    with _browsing(chromium, server, scripts=False) as page:
        link = _ask_for_a_link(page)
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        expect(page.locator("header .who")).to_have_count(0)  # opening it used nothing
        page.screenshot(path=SCREENSHOTS / "example-magic-link-confirm.png")
        page.locator("main").get_by_role("button", name="Sign in").click()

        page.wait_for_url("**/messaging/verify/")
        expect(page.locator("header .who")).to_have_text(f"Signed in as {USERNAME}")

        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("This sign-in link does not work")
        page.screenshot(path=SCREENSHOTS / "example-link-reused.png")
        page.get_by_role("link", name="Email me a new sign-in link").click()
        page.wait_for_url("**/accounts/sign-in/")
        expect(page.get_by_role("button", name="Email me a sign-in link")).to_be_visible()


def test_a_sign_in_link_signs_in_without_a_click_where_scripts_run(chromium, server):
    from playwright.sync_api import expect

    with _browsing(chromium, server) as page:
        page.goto(_ask_for_a_link(page))
        page.wait_for_url("**/messaging/verify/")
        expect(page.locator("header .who")).to_have_text(f"Signed in as {USERNAME}")
        assert _path(page) == "/messaging/verify/"
