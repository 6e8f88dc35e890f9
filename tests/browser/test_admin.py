"""The admin's actions in headless Chromium, and its key columns in view at 1280 px.

The example project is served with a service row per provider (health still
unknown), a failed Stripe webhook event, a few recorded calls and a
subscription; a superuser tests a connection, disables and enables a service,
reprocesses the event, and reads the lists. Screenshots are saved as
``docs/_static/screenshots/admin-*.png``, which docs/admin.rst shows.

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

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs/_static/screenshots"
WIDTH = 1280

# Run by the example's ``manage.py shell``: what an operator finds on a working day.
ROWS = """
import datetime, time
from django.utils import timezone
from patchbay.core.recording import CallRecord, store_records
from patchbay.models import ExternalService, WebhookEvent
from patchbay.webhooks.processing import reprocess

for provider, name in (("stripe", "Stripe"), ("twilio", "Twilio"), ("loops", "Loops"),
                       ("aws", "AWS S3")):
    ExternalService.objects.get_or_create(provider=provider, defaults={"name": name})

now = timezone.now()
store_records([
    CallRecord(provider=provider, operation=operation, success=status < 400,
               duration_ms=duration, simulated=True, status_code=status,
               error="" if status < 400 else "The provider answered 503.",
               error_code="" if status < 400 else "service_unavailable",
               at=now - datetime.timedelta(minutes=minutes))
    for minutes, (provider, operation, status, duration) in enumerate([
        ("stripe", "create_checkout_session", 200, 184),
        ("twilio", "send_sms", 201, 95),
        ("loops", "transactional_email", 503, 1204),
        ("aws", "generate_presigned_upload_form", 200, 3),
    ])
])


def subscription_event(event_id, subscription_id, status):
    stamp = int(time.time())
    ends = stamp + 20 * 86400
    subscription = {
        "id": subscription_id, "object": "subscription", "customer": "cus_" + event_id,
        "status": "active", "cancel_at_period_end": True, "current_period_end": ends,
        "items": {"data": [{"price": {"id": "price_pro_monthly"}, "current_period_end": ends}]},
    }
    return WebhookEvent.objects.create(
        provider="stripe", event_id=event_id, event_type="customer.subscription.updated",
        status=status, attempts=1, error="The handler raised: database is locked",
        payload={"id": event_id, "object": "event", "type": "customer.subscription.updated",
                 "created": stamp, "data": {"object": subscription}},
    )


# One processed already (its subscription is listed), one failed, for the operator.
reprocess(subscription_event("evt_1QdAdminProcessed", "sub_1QdAdminListed", "failed"))
subscription_event("evt_1QdAdminFailedOnce", "sub_1QdAdminReprocessed", "failed")
"""


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def prepare(manage: Any) -> None:
        manage("shell", "-c", ROWS)

    with example_server(tmp_path_factory.mktemp("admin"), {}, prepare) as url:
        yield url


@pytest.fixture
def page(chromium: Any, server: str) -> Iterator[Any]:
    """A page signed in to the admin as the superuser, 1280x800."""
    context = chromium.new_context(base_url=server, viewport={"width": WIDTH, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in_to_admin(page)
        yield page
    finally:
        context.close()


def row(page: Any, text: str) -> Any:
    return page.locator("#result_list tbody tr", has_text=text)


def run_action(page: Any, changelist: str, text: str, action: str) -> None:
    page.goto(f"/admin/patchbay/{changelist}/")
    row(page, text).locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_test_connection_shows_the_service_healthy_with_the_reason(page):
    from playwright.sync_api import expect

    page.goto("/admin/patchbay/externalservice/")
    expect(row(page, "stripe").locator("td.field-health")).to_have_text("Unknown")

    run_action(page, "externalservice", "stripe", "test_connection")

    expect(page.locator("ul.messagelist li.success")).to_contain_text("Stripe: connection OK in")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("(simulated)")
    stripe = row(page, "stripe")
    expect(stripe.locator("td.field-health")).to_have_text("Healthy")
    expect(stripe.locator("td.field-health_reason")).to_have_text("Simulated: no live call yet.")
    page.screenshot(path=str(SCREENSHOTS / "admin-services.png"))


def test_disable_then_enable_a_service(page):
    from playwright.sync_api import expect

    run_action(page, "externalservice", "twilio", "disable")

    expect(page.locator("ul.messagelist li.success")).to_have_text("1 service disabled.")
    expect(row(page, "twilio").locator("td.field-enabled img")).to_have_attribute("alt", "False")
    page.screenshot(path=str(SCREENSHOTS / "admin-service-disabled.png"))

    run_action(page, "externalservice", "twilio", "enable")

    expect(page.locator("ul.messagelist li.success")).to_have_text("1 service enabled.")
    expect(row(page, "twilio").locator("td.field-enabled img")).to_have_attribute("alt", "True")


def test_reprocess_a_failed_webhook_event(page):
    from playwright.sync_api import expect

    page.goto("/admin/patchbay/webhookevent/")
    event = row(page, "evt_1QdAdminFailedOnce")
    expect(event.locator("td.field-outcome")).to_have_text("Failed")

    run_action(page, "webhookevent", "evt_1QdAdminFailedOnce", "reprocess_events")

    expect(page.locator("ul.messagelist li.success")).to_have_text(
        "Reprocessed 1 event: 1 Processed."
    )
    expect(event.locator("td.field-outcome")).to_have_text("Processed")
    page.screenshot(path=str(SCREENSHOTS / "admin-webhook-events.png"))


# The columns an operator must see without scrolling, by changelist.
KEY_COLUMNS = {
    "integrationlog": [
        "provider",
        "operation",
        "success",
        "duration",
        "http_status",
        "simulated",
    ],
    "webhookevent": ["outcome", "attempts"],
    "stripesubscription": ["status_badge", "cancel_at_period_end"],
}


@pytest.mark.parametrize("changelist", sorted(KEY_COLUMNS))
def test_key_columns_are_in_view_at_1280_px(page, changelist):
    from playwright.sync_api import expect

    page.goto(f"/admin/patchbay/{changelist}/")

    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    for column in KEY_COLUMNS[changelist]:
        # Within the window and within the list's own scrolling box, which clips what
        # does not fit beside the navigation and the filters.
        left, right, clip = page.locator(f"#result_list thead th.column-{column}").evaluate(
            "th => { const box = th.getBoundingClientRect();"
            " return [box.left, box.right, th.closest('.results').getBoundingClientRect().right]; }"
        )
        assert left >= 0, column
        assert right <= min(WIDTH, clip), (column, right, clip)
    if changelist == "integrationlog":
        page.screenshot(path=str(SCREENSHOTS / "admin-integration-logs.png"))
