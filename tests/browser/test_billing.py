"""The example's billing demo in headless Chromium, against the example served by runserver.

Subscribe → simulated Checkout → Pay → the success page names the plan →
pricing shows the plan with the portal, no Subscribe button → a forged second
subscribe is refused; Checkout cancelled says so; portal → cancel at period
end → its end shown; a Checkout paid twice (Back then Pay, a second tab) is
refused.

Skipped without Chromium or Playwright, unless ``PATCHBAY_BROWSER_TESTS=1``
(see ``tests/browser/conftest.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import TIMEOUT_MS, example_server, sign_in

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "_static" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}


#: One account per test, so that each starts unsubscribed whatever ran before.
SHOPPERS = ("bea", "cy")


def _shoppers(manage: Callable[..., None]) -> None:
    for name in SHOPPERS:
        manage("createsuperuser", "--noinput", "--username", name, "--email", f"{name}@example.com")


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with example_server(tmp_path_factory.mktemp("billing"), {}, prepare=_shoppers) as url:
        yield url


@pytest.fixture
def page(chromium: Any, server: str) -> Iterator[Any]:
    """A browser context of its own per test (its own cookies, so its own sign-in)."""
    context = chromium.new_context(base_url=server, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def csrf_post(page: Any, path: str, data: dict[str, str]) -> Any:
    """POST as a forged form would, with the page's CSRF token: what hiding a button misses."""
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    return page.request.post(
        path,
        form={"csrfmiddlewaretoken": token, **data},
        headers={"Referer": page.url},
        max_redirects=0,
    )


def test_subscribe_pay_portal_cancel(page: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, next_url="/billing/")
    expect(page.locator("main")).to_contain_text("€5 / month")
    expect(page.locator("main")).not_to_contain_text("price_")
    page.screenshot(path=str(SCREENSHOTS / "example-pricing.png"))

    page.get_by_role("button", name="Subscribe to Pro").click()
    page.wait_for_url(re.compile(r"/simulated-checkout/"))
    page.screenshot(path=str(SCREENSHOTS / "example-checkout.png"))
    checkout_url = page.url
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/billing/success/\?session_id=cs_test_"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you: you are subscribed to Pro"
    )

    page.goto("/billing/")
    main = page.locator("main")
    expect(main).to_contain_text("Your plan: Pro")
    expect(main).to_contain_text("Renews on")
    expect(page.get_by_role("button", name="Change plan or manage billing")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Subscribe"))).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "example-subscribed.png"))

    forged = csrf_post(page, "/billing/subscribe/", {"plan": "basic"})
    assert forged.status == 302
    assert forged.headers["location"] == "/billing/"
    page.goto("/billing/")
    expect(page.locator("ul.messages li.warning")).to_contain_text("You are subscribed already")

    # Back to the paid Checkout, Pay again: refused, nothing charged.
    page.goto(checkout_url)
    expect(page.get_by_role("status")).to_contain_text("already complete")
    expect(page.get_by_role("button", name="Pay")).to_have_count(0)

    page.goto("/billing/")
    page.get_by_role("button", name="Change plan or manage billing").click()
    page.wait_for_url("**/billing/")
    expect(page.locator("ul.messages li.info")).to_contain_text("billing portal")
    page.get_by_role("button", name="Cancel at period end").click()
    page.wait_for_url("**/billing/")
    expect(page.locator("ul.messages li.success")).to_contain_text(
        "Your subscription ends with the current period."
    )
    expect(page.locator("main")).to_contain_text("Cancelled: it ends on")
    expect(page.get_by_role("button", name="Cancel at period end")).to_have_count(0)


def test_cancelling_checkout_says_so(page: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, SHOPPERS[0], next_url="/billing/")
    page.get_by_role("button", name="Subscribe to Basic").click()
    page.wait_for_url(re.compile(r"/simulated-checkout/"))
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url("**/billing/")
    expect(page.locator("ul.messages li.info")).to_have_text(
        "Checkout cancelled: you were not charged."
    )
    expect(page.locator("main")).to_contain_text("You have no active subscription.")
    page.reload()
    expect(page.locator("ul.messages")).to_have_count(0)


def test_a_second_tab_paid_is_refused(page: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, SHOPPERS[1], next_url="/billing/")
    second = page.context.new_page()
    second.goto("/billing/")
    page.get_by_role("button", name="Subscribe to Basic").click()
    second.get_by_role("button", name="Subscribe to Pro").click()
    page.wait_for_url(re.compile(r"/simulated-checkout/"))
    second.wait_for_url(re.compile(r"/simulated-checkout/"))
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/billing/success/"))

    second.get_by_role("button", name="Pay").click()
    expect(second.get_by_role("status")).to_contain_text("already has a subscription")
    expect(second.get_by_role("button", name="Pay")).to_have_count(0)
    second.get_by_role("link", name="Return to the site").click()
    second.wait_for_url("**/billing/")
    expect(second.locator("main")).to_contain_text("Your plan: Basic")
