"""The example's two organizations, simulated: each one's demos use its own accounts and rows."""

from __future__ import annotations

import json
import textwrap

from tests.test_example_project import ROOT, run_example, squeeze

FLOW = textwrap.dedent(
    f"""
    import json, sys
    sys.path.insert(0, {str(ROOT)!r})
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    from organizations.models import Organization
    from patchbay.models import SMS, StripeSubscription, WebhookEvent

    call_command("migrate", verbosity=0)
    admin = User.objects.create_superuser("admin", "admin@example.com", "admin")
    acme, globex = Organization.objects.get(slug="acme"), Organization.objects.get(slug="globex")
    seen = {{"anonymous_overview": Client().get("/organizations/").status_code}}
    client = Client()
    client.force_login(admin)

    switched = client.post("/organizations/switch/", {{"slug": "acme", "next": "/billing/"}})
    seen["switched_to"] = switched["Location"]
    seen["header"] = client.get("/billing/").content.decode()
    checkout = client.post("/billing/subscribe/", {{"plan": "pro"}})
    seen["paid"] = client.post(checkout["Location"], {{"action": "pay"}}).status_code

    client.post("/organizations/switch/", {{"slug": "globex"}})
    sent = client.post("/messaging/", {{"to_number": "+1 415 555 2671", "body": "Hi"}})
    seen["sent"] = sent.status_code
    seen["globex_pricing"] = client.get("/billing/").content.decode()

    client.post("/organizations/switch/", {{"slug": ""}})
    seen["site_pricing"] = client.get("/billing/").content.decode()
    seen["overview"] = client.get("/organizations/").content.decode()
    seen["tenants"] = {{
        "subscriptions": list(StripeSubscription.objects.values_list("tenant_key", flat=True)),
        "sms": list(SMS.objects.values_list("tenant_key", flat=True)),
        "stripe_events": sorted(
            set(WebhookEvent.objects.filter(provider="stripe").values_list("tenant_key", flat=True))
        ),
        "twilio_events": sorted(
            set(WebhookEvent.objects.filter(provider="twilio").values_list("tenant_key", flat=True))
        ),
        "acme": str(acme.pk),
        "globex": str(globex.pk),
    }}
    print(json.dumps(seen))
    """
)


def test_each_organization_works_with_its_own_services(tmp_path):
    completed = run_example(["-c", FLOW], tmp_path / "db.sqlite3")
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout.splitlines()[-1])
    tenants = seen["tenants"]

    assert seen["anonymous_overview"] == 302  # webhook URLs and logs are for staff
    assert seen["switched_to"] == "/billing/"
    assert '<option value="acme" selected>Acme</option>' in squeeze(seen["header"])
    assert (seen["paid"], seen["sent"]) == (302, 302)
    # Acme's checkout went to Acme's endpoint; Globex's message is Globex's.
    assert tenants["subscriptions"] == [tenants["acme"]]
    assert tenants["stripe_events"] == [tenants["acme"]]
    assert tenants["sms"] == [tenants["globex"]]
    assert tenants["twilio_events"] == [tenants["globex"]]
    # Globex and the site have no subscription of Acme's.
    assert "You have no active subscription." in seen["globex_pricing"]
    assert "You have no active subscription." in seen["site_pricing"]
    overview = squeeze(seen["overview"])
    for name in ("Acme", "Globex"):
        assert f"<h2>{name}" in overview
    assert "/integrations/webhooks/stripe/" in overview
    assert overview.count('Subscriptions: <strong class="count">1</strong>') == 1
    assert overview.count('SMS messages: <strong class="count">1</strong>') == 1
