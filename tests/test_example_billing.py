"""The example's Stripe demo, end to end in simulation: pricing → Checkout → webhooks → state."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from tests.test_example_project import ROOT, run_example

FLOW = textwrap.dedent(
    f"""
    import json, sys
    sys.path.insert(0, {str(ROOT)!r})
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from patchbay.models import StripeSubscription

    def page(response):
        return response.content.decode()

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("ada", "ada@example.com", "pw")
    client = Client()
    seen = {{"anonymous": client.get("/billing/").status_code}}
    client.force_login(user)
    seen["pricing"] = page(client.get("/billing/"))
    seen["unknown_plan"] = page(client.post("/billing/subscribe/", {{"plan": "gold"}}, follow=True))
    seen["portal_unsubscribed"] = page(client.post("/billing/portal/", follow=True))
    seen["cancel_unsubscribed"] = page(client.post("/billing/cancel/", follow=True))

    gave_up = client.post("/billing/subscribe/", {{"plan": "basic"}})
    back = client.post(gave_up["Location"], {{"action": "cancel"}})
    seen["cancel_url"] = back["Location"]
    seen["cancelled"] = page(client.get(back["Location"], follow=True))
    seen["cancelled_reload"] = page(client.get("/billing/"))

    checkout = client.post("/billing/subscribe/", {{"plan": "pro"}})
    second_tab = client.post("/billing/subscribe/", {{"plan": "basic"}})
    paid = client.post(checkout["Location"], {{"action": "pay"}})
    seen["after_pay"] = paid["Location"]
    seen["success"] = page(client.get(paid["Location"]))
    seen["pay_again"] = client.post(checkout["Location"], {{"action": "pay"}}).status_code
    seen["second_tab_pay"] = client.post(second_tab["Location"], {{"action": "pay"}}).status_code
    seen["subscribed_pricing"] = page(client.get("/billing/"))
    seen["subscribe_again"] = page(
        client.post("/billing/subscribe/", {{"plan": "basic"}}, follow=True)
    )
    seen["subscriptions"] = StripeSubscription.objects.count()
    portal = client.post("/billing/portal/")
    seen["portal_to"] = portal["Location"]
    seen["portal_page"] = page(client.get(portal["Location"]))
    client.post("/billing/cancel/")
    seen["after_cancel"] = page(client.get("/billing/"))
    seen["cancel_again"] = page(client.post("/billing/cancel/", follow=True))
    seen["cancel_at_period_end"] = StripeSubscription.objects.get().cancel_at_period_end
    print(json.dumps(seen))
    """
)


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    completed = run_example(["-c", FLOW], tmp_path_factory.mktemp("billing") / "db.sqlite3")
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return result


def test_the_demo_needs_a_signed_in_user(seen):
    assert seen["anonymous"] == 302


def test_pricing_shows_plan_names_and_amounts_not_price_ids(seen):
    assert "You have no active subscription." in seen["pricing"]
    assert "Basic" in seen["pricing"]
    assert "€5 / month" in seen["pricing"]
    assert "€15 / month" in seen["pricing"]
    assert "Subscribe to Pro" in seen["pricing"]
    assert "price_basic_monthly" not in seen["pricing"]
    assert "price_pro_monthly" not in seen["pricing"]


def test_an_unknown_plan_is_refused(seen):
    assert "Choose a plan." in seen["unknown_plan"]


def test_portal_and_cancel_without_a_subscription_say_so(seen):
    assert "You have no active subscription.</li>" in seen["portal_unsubscribed"]
    assert "You have no active subscription.</li>" in seen["cancel_unsubscribed"]


def test_cancelling_checkout_says_nothing_was_charged_once(seen):
    assert seen["cancel_url"] == "http://testserver/billing/checkout-cancelled/"
    assert "Checkout cancelled: you were not charged." in seen["cancelled"]
    assert "Checkout cancelled" not in seen["cancelled_reload"]


def test_the_success_page_names_the_plan(seen):
    assert seen["after_pay"].startswith("http://testserver/billing/success/?session_id=cs_test_")
    assert "you are subscribed to Pro" in seen["success"]
    assert "€15 / month" in seen["success"]
    assert ">active</span>" in seen["success"]
    assert "Renews on" in seen["success"]
    assert "price_pro_monthly" not in seen["success"]


def test_checkout_paid_twice_makes_one_subscription(seen):
    # Back, then Pay again; a second tab's Checkout paid; Subscribe posted again.
    assert seen["pay_again"] == 409
    assert seen["second_tab_pay"] == 409
    assert seen["subscriptions"] == 1


def test_a_subscriber_is_offered_the_portal_not_a_second_subscription(seen):
    assert "Subscribe to" not in seen["subscribed_pricing"]
    assert "Change plan or manage billing" in seen["subscribed_pricing"]
    assert "Your plan" in seen["subscribed_pricing"]
    assert "You are subscribed already" in seen["subscribe_again"]


def test_the_portal_returns_to_pricing(seen):
    assert seen["portal_to"] == "http://testserver/billing/"
    assert "billing portal returned here" in seen["portal_page"]


def test_cancel_at_period_end_shows_the_end(seen):
    assert seen["cancel_at_period_end"] is True
    assert "Your subscription ends with the current period." in seen["after_cancel"]
    assert "Cancelled: it ends on" in seen["after_cancel"]
    assert "Cancel at period end</button>" not in seen["after_cancel"]
    assert "already ends with the current period" in seen["cancel_again"]
