"""The example's "connect a service" demo, in simulation: connect → consent → call → disconnect.

The flow runs in the example's own process, through patchbay's real connect,
callback and disconnect views and its simulated consent page, as a browser
would follow them.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

import pytest

from tests.test_example_project import ROOT, run_example

FLOW = textwrap.dedent(
    f"""
    import json, sys
    from urllib.parse import urlsplit
    sys.path.insert(0, {str(ROOT)!r})
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from patchbay.models import IntegrationLog, OAuth2Token

    call_command("migrate", verbosity=0)
    ada = User.objects.create_user("ada", "ada@example.com", "pw")
    bob = User.objects.create_user("bob", "bob@example.com", "pw")
    seen = {{"anonymous": Client().get("/connections/").status_code}}
    client = Client()
    client.force_login(ada)


    def local(url):
        parts = urlsplit(url)
        return parts.path + ("?" + parts.query if parts.query else "")


    def page(response):
        return {{"status": response.status_code, "html": response.content.decode()}}


    def consent(action):
        connect = client.post(
            "/integrations/oauth2/demo_crm/connect/", {{"next": "/connections/"}}
        )
        shown = client.get(local(connect["Location"]))
        answered = client.post(local(connect["Location"]), {{"action": action}})
        back = client.get(local(answered["Location"]))
        return {{
            "connect": connect.status_code,
            "consent_url": connect["Location"],
            "consent": page(shown),
            "answered": answered.status_code,
            "callback_url": answered["Location"],
            "back": back.status_code,
            "back_to": back.get("Location", ""),
            "back_page": page(back),
        }}


    seen["before"] = page(client.get("/connections/"))
    seen["call_before"] = page(client.post("/connections/"))
    seen["approve"] = consent("approve")
    seen["connected"] = page(client.get("/connections/"))
    token = OAuth2Token.objects.get(provider="demo_crm", user=ada)
    seen["tokens"] = [token.access_token, token.refresh_token]
    seen["call"] = page(client.post("/connections/"))
    other = Client()
    other.force_login(bob)
    seen["call_as_bob"] = page(other.post("/connections/"))
    seen["deny"] = consent("deny")
    seen["still_connected"] = OAuth2Token.objects.filter(provider="demo_crm", user=ada).exists()
    disconnect = client.post(
        "/integrations/oauth2/demo_crm/disconnect/", {{"next": "/connections/"}}
    )
    seen["disconnect"] = {{"status": disconnect.status_code, "to": disconnect["Location"]}}
    seen["after"] = page(client.get("/connections/"))
    seen["rows"] = OAuth2Token.objects.count()
    seen["log"] = [
        json.dumps([str(value) for value in row.__dict__.values()])
        for row in IntegrationLog.objects.all()
    ]
    print(json.dumps(seen))
    """
)


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the demo answered along the whole flow, run once in the example's own process."""
    directory = tmp_path_factory.mktemp("example-connections")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("PATCHBAY_PUBLIC_URL", "")  # whatever a developer's .env says
        completed = run_example(["-c", FLOW], directory / "db.sqlite3")
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return result


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_needs_a_signed_in_user(seen):
    assert seen["anonymous"] == 302


def test_before_connecting_the_page_offers_connect_and_the_call_fails(seen):
    assert seen["before"]["status"] == 200
    html = seen["before"]["html"]
    assert 'action="/integrations/oauth2/demo_crm/connect/"' in html
    assert "not connected" in html
    assert "Disconnect" not in html
    call = text(seen["call_before"]["html"])
    assert "not_connected Demo CRM is not connected for this user: connect it first" in call


def test_connect_goes_through_the_simulated_consent_page_and_back(seen):
    flow = seen["approve"]
    assert flow["connect"] == 302
    assert flow["consent_url"].startswith("/integrations/oauth2/demo_crm/simulated-authorize/?")
    assert "code_challenge_method=S256" in flow["consent_url"]
    assert flow["consent"]["status"] == 200
    assert "contacts.read" in flow["consent"]["html"]
    assert flow["answered"] == 302
    assert flow["callback_url"].startswith(
        "http://testserver/integrations/oauth2/demo_crm/callback/?code="
    )
    assert (flow["back"], flow["back_to"]) == (302, "/connections/")


def test_the_connected_page_shows_expiry_and_scopes_never_a_token(seen):
    html = seen["connected"]["html"]
    assert "Demo CRM is connected." in html  # the callback's message
    assert '<span class="badge healthy">connected</span>' in html
    assert "Access token expires" in html
    assert "<code>contacts.read</code> <code>offline_access</code>" in html
    assert "Reconnect Demo CRM" in html
    assert 'action="/integrations/oauth2/demo_crm/disconnect/"' in html
    for token in seen["tokens"]:
        assert token.startswith("simulated-")
        for name in ("connected", "call", "after"):
            assert token not in seen[name]["html"]
        assert not any(token in row for row in seen["log"])


def test_a_call_is_made_for_the_connected_user_only(seen):
    assert "Grace Hopper" in seen["call"]["html"]
    assert "Simulated: answered offline" in seen["call"]["html"]
    assert "not_connected" in seen["call_as_bob"]["html"]
    assert "Grace Hopper" not in seen["call_as_bob"]["html"]


def test_deny_connects_nothing_and_keeps_the_connection(seen):
    flow = seen["deny"]
    assert "error=access_denied" in flow["callback_url"]
    assert flow["back"] == 400
    assert "access_denied" in flow["back_page"]["html"]
    assert seen["still_connected"] is True


def test_disconnect_forgets_the_connection(seen):
    assert seen["disconnect"] == {"status": 302, "to": "/connections/"}
    assert "Demo CRM is disconnected." in seen["after"]["html"]
    assert "not connected" in seen["after"]["html"]
    assert seen["rows"] == 0
