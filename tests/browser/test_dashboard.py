"""The health dashboard in headless Chromium: reached from the admin index, and its screenshot.

The example project is served with a day of simulated calls recorded for
every service (some failed), a probe, and a webhook backlog; a superuser
signs in to the admin, follows the index's "Health dashboard" link and sees
each service's numbers, chart and failures. The page's screenshot is saved as
``docs/_static/screenshots/dashboard.png``, which docs/operations.rst shows.

Skipped without Chromium or Playwright, unless ``PATCHBAY_BROWSER_TESTS=1``
(see ``tests/browser/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import TIMEOUT_MS, example_server, sign_in_to_admin

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs/_static/screenshots/dashboard.png"

# Run by the example's ``manage.py shell``: the rows a day of traffic leaves.
HISTORY = """
import datetime, random
from django.utils import timezone
from patchbay.core.recording import CallRecord, store_records
from patchbay.models import ExternalService, HealthCheck, WebhookEvent

now = timezone.now()
generator = random.Random(17)
records = []
for provider, rate, failing in (("stripe", 40, 0.02), ("twilio", 25, 0.15),
                                ("loops", 30, 0.0), ("aws", 12, 0.05)):
    for hours in range(24):
        for _ in range(int(rate * (1.5 if 8 <= (now.hour - hours) % 24 <= 18 else 0.6))):
            failed = generator.random() < (failing * (6 if hours in (2, 3) else 1))
            records.append(CallRecord(
                provider=provider, operation="send", success=not failed,
                duration_ms=int(generator.lognormvariate(5, 0.5)) + (900 if failed else 0),
                simulated=True, error="The provider answered 503." if failed else "",
                error_code="timeout" if failed else "", status_code=503 if failed else 200,
                at=now - datetime.timedelta(hours=hours, minutes=generator.randrange(60)),
            ))
store_records(records)
for provider in ("stripe", "twilio", "loops", "aws"):
    service, _ = ExternalService.objects.get_or_create(provider=provider)
    HealthCheck.objects.create(service=service, status="success", response_time_ms=42,
                               simulated=True)
ExternalService.objects.filter(provider="twilio").update(health_status="degraded")
for n, status in enumerate(["received"] * 3 + ["failed"] * 2 + ["dead"]):
    WebhookEvent.objects.create(provider="stripe", event_id=f"evt_{n}", status=status)
WebhookEvent.objects.filter(event_id="evt_0").update(
    received_at=now - datetime.timedelta(minutes=95))
"""


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def prepare(manage: Any) -> None:
        manage("shell", "-c", HISTORY)

    with example_server(tmp_path_factory.mktemp("dashboard"), {}, prepare) as url:
        yield url


def test_staff_reach_the_dashboard_from_the_admin_index_and_see_each_service(chromium, server):
    from playwright.sync_api import expect

    context = chromium.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in_to_admin(page)
        page.get_by_role("link", name="Health dashboard").click()
        page.wait_for_url("**/integrations/dashboard/")

        expect(page).to_have_title("Integration health | Django site admin")
        for name in ("Stripe (stripe)", "Twilio (twilio)", "Loops (loops)", "AWS S3 (aws)"):
            expect(page.get_by_role("heading", name=name)).to_be_visible()
        twilio = page.locator("#service-twilio")
        expect(twilio.locator(".pb-health")).to_have_text("degraded")
        expect(twilio.locator(".pb-breaker")).to_have_text("closed")
        expect(twilio.locator(".pb-window-day .pb-rate")).to_contain_text("%")
        expect(twilio.locator(".pb-failures code").first).to_have_text("timeout")
        expect(twilio.locator(".pb-probe-status")).to_have_text("success (simulated)")
        # The chart: 24 hours, each with its numbers as a title (no colour needed).
        expect(twilio.locator("svg.pb-chart g.pb-hour")).to_have_count(24)
        expect(twilio.locator("svg.pb-chart g.pb-hour title").last).to_contain_text(" calls, ")
        stripe = page.locator("#service-stripe")
        expect(stripe.locator(".pb-received")).to_have_text("3")
        expect(stripe.locator(".pb-failed")).to_have_text("2")
        expect(stripe.locator(".pb-dead")).to_have_text("1")
        expect(stripe.locator(".pb-oldest")).to_contain_text("hour")
        loops = page.locator("#service-loops")
        expect(loops.locator(".pb-failures")).to_contain_text("No failure in the last week.")

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert SCREENSHOT.stat().st_size > 10_000
    finally:
        context.close()
