"""The example's Stripe demo, end to end in simulation: pricing → Checkout → webhooks → state."""

from __future__ import annotations

import json
import textwrap

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

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("ada", "ada@example.com", "pw")
    client = Client()
    seen = {{"anonymous": client.get("/billing/").status_code}}
    client.force_login(user)
    seen["pricing"] = client.get("/billing/").content.decode()
    checkout = client.post("/billing/subscribe/", {{"plan": "pro"}})
    paid = client.post(checkout["Location"], {{"action": "pay"}})
    seen["after_pay"] = paid["Location"]
    seen["success"] = client.get(paid["Location"]).content.decode()
    seen["pay_again"] = client.post(checkout["Location"], {{"action": "pay"}}).status_code
    seen["subscribed_pricing"] = client.get("/billing/").content.decode()
    again = client.post("/billing/subscribe/", {{"plan": "basic"}}, follow=True)
    seen["subscribe_again"] = again.content.decode()
    from patchbay.models import StripeSubscription
    seen["subscriptions"] = StripeSubscription.objects.count()
    client.post("/billing/cancel/")
    seen["after_cancel"] = client.get("/billing/").content.decode()
    print(json.dumps(seen))
    """
)


def test_subscribe_and_cancel_offline(tmp_path):
    completed = run_example(["-c", FLOW], tmp_path / "db.sqlite3")
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout.splitlines()[-1])

    assert seen["anonymous"] == 302  # the demo needs a signed-in user
    assert "You have no active subscription." in seen["pricing"]
    assert seen["after_pay"].startswith("http://testserver/billing/success/?session_id=cs_test_")
    assert "price_pro_monthly" in seen["success"]
    assert ">active</span>" in seen["success"]
    # Back, then Pay again; or Subscribe again: still one subscription.
    assert seen["pay_again"] == 409
    assert "Subscribe to" not in seen["subscribed_pricing"]
    assert "You have a subscription already." in seen["subscribe_again"]
    assert seen["subscriptions"] == 1
    assert "It cancels at the end of this period." in seen["after_cancel"]
    assert "Your subscription ends with the current period." in seen["after_cancel"]
