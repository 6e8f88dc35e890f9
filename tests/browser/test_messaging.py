"""The example's Twilio demos in headless Chromium: an SMS delivered over time, verification.

The example runs with the simulated status callbacks spread out
(``PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS``), so the message page is seen
moving queued → sent → delivered by its own poll; a refused number is the
form's error and stays out of the history; the verify page says how many
attempts are left, that a new code was sent, and, at the limits, when a
new code can be had, in minutes. Screenshots: ``example-sms-delivered.png``,
``example-verify.png`` and ``example-verify-limit.png`` in
``docs/_static/screenshots/``, shown by docs/example.rst.

Skipped without Chromium or Playwright, unless ``PATCHBAY_BROWSER_TESTS=1``
(see ``tests/browser/conftest.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import TIMEOUT_MS, example_server, sign_in

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs/_static/screenshots"
# queued after 0.5 s (the row is queued already), sent 1 s later, delivered 1 s after that:
# each status shows for longer than the page's half-second poll.
DELAYS = "0.5,1,1"


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = {"PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS": DELAYS}
    with example_server(tmp_path_factory.mktemp("messaging"), settings) as url:
        yield url


@pytest.fixture
def page(chromium: Any, server: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sign_in(page)
    try:
        yield page
    finally:
        context.close()


def screenshot(page: Any, name: str) -> None:
    path = SCREENSHOTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 5_000


def test_a_message_is_seen_queued_then_sent_then_delivered(page):
    from playwright.sync_api import expect

    page.goto("/messaging/")
    page.fill("#id_to_number", "+1 415 555 2671")
    page.fill("#id_body", "Your table is ready")
    sent_at = time.monotonic()
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/messaging/sms/\d+/$"))

    badge = page.locator("#sms-status")
    expect(badge).to_have_text("queued")
    expect(badge).to_have_text("sent")
    assert time.monotonic() - sent_at >= 1.0  # not before the callbacks' delays
    expect(badge).to_have_text("delivered")
    expect(badge).to_have_class(re.compile(r"\bhealthy\b"))
    assert time.monotonic() - sent_at >= 2.0
    screenshot(page, "example-sms-delivered.png")


def test_a_refused_number_is_the_forms_error_and_not_in_the_history(page):
    from playwright.sync_api import expect

    page.goto("/messaging/")
    page.fill("#id_to_number", "12")
    page.fill("#id_body", "Hello")
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".errorlist").first).to_contain_text("is not a valid phone number")
    page.goto("/messaging/")
    expect(page.locator("table").first).not_to_contain_text("failed")
    expect(page.get_by_text("12", exact=True)).to_have_count(0)


def last_code(page: Any, number: str) -> str:
    """The code the dev outbox shows for ``number``, newest first, as a developer reads it."""
    from playwright.sync_api import expect

    message = page.locator("#dev-outbox tbody tr").filter(has_text=number).first.locator("td")
    expect(message.last).to_contain_text(re.compile(r"\d{6}"))
    found = re.search(r"\b\d{6}\b", message.last.inner_text())
    assert found is not None
    return found[0]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_verification_says_attempts_left_then_verifies(page):
    from playwright.sync_api import expect

    page.goto("/messaging/verify/")
    page.fill("#phone-number", "+14155550123")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.locator("#code-sent")).to_have_text(
        "A code was sent to +14155550123; it is valid for 10 minutes."
    )
    code = last_code(page, "+14155550123")

    page.fill("#code", wrong(code))
    page.get_by_role("button", name="Verify").click()
    result = page.locator("#verify-result")
    expect(result).to_have_text("The code is not correct: 4 attempts left.")
    screenshot(page, "example-verify.png")

    page.fill("#code", code)
    page.get_by_role("button", name="Verify").click()
    expect(result).to_have_text("Verified: +14155550123 is yours.")
    expect(page.locator("#check-form")).to_be_hidden()


def test_at_the_limits_the_wait_is_said_in_minutes(page):
    from playwright.sync_api import expect

    number = "+14155550199"
    page.goto("/messaging/verify/")
    page.fill("#phone-number", number)
    send = page.get_by_role("button", name="Send me a code")
    send.click()
    expect(page.locator("#code-sent")).to_contain_text(f"A code was sent to {number}")
    sent = page.locator("#dev-outbox tbody tr").filter(has_text=number)
    expect(sent).to_have_count(1)
    for count in (2, 3):  # up to the per-number limit: 3 an hour
        send.click()
        expect(sent).to_have_count(count)  # this send's answer is in: the panel refreshes after
        expect(page.locator("#code-sent")).to_contain_text(f"A new code was sent to {number}")
    code = last_code(page, number)

    result = page.locator("#verify-result")
    for left in (4, 3, 2, 1):
        page.fill("#code", wrong(code))
        page.get_by_role("button", name="Verify").click()
        expect(result).to_contain_text(f"{left} attempt")
    page.fill("#code", wrong(code))
    page.get_by_role("button", name="Verify").click()
    # Not "request a new one": the limit refuses that for the hour; the page says when.
    expect(result).to_have_text("Too many wrong codes; a new code can be requested in 60 minutes.")

    send.click()
    expect(result).to_have_text("Too many codes requested; try again in 60 minutes.")
    # No "sent" line above the refusal: the earlier code's form is gone.
    expect(page.locator("#check-form")).to_be_hidden()
    screenshot(page, "example-verify-limit.png")
