"""The whole authorization flow while simulating: no provider, a local consent page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse

from patchbay.core.simulation import outbox
from patchbay.models import IntegrationLog, OAuth2Token
from patchbay.oauth2.flow import SESSION_PREFIX
from patchbay.oauth2.simulated import TOKEN_PREFIX
from patchbay.oauth2.tokens import get_token
from tests.oauth2 import clients  # noqa: F401  (registers the tests' OAuth2 clients)

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/integrations/oauth2/acme_oauth/callback/"


@pytest.fixture
def simulating(settings, admin_client):
    settings.PATCHBAY_SIMULATE = True
    settings.PATCHBAY_PUBLIC_URL = "http://testserver"
    return admin_client


def url(name, provider="acme_oauth"):
    return reverse(f"patchbay:oauth2-{name}", kwargs={"provider": provider})


def local(location):
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def consent_page(client, provider="acme_oauth"):
    response = client.post(url("connect", provider), {"next": "/done/"})
    assert response.status_code == 302
    assert response["Location"].startswith(
        "http://testserver" + url("simulated-authorize", provider)
    )
    return local(response["Location"])


def test_approve_connects_with_simulated_tokens(simulating):
    page = consent_page(simulating)
    shown = simulating.get(page)
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "Simulated" in html
    assert "<code>offline_access</code>" in html
    answer = simulating.post(page, {"action": "approve"})
    assert answer.status_code == 302
    assert answer["Location"].startswith(CALLBACK + "?")
    response = simulating.get(local(answer["Location"]))
    assert response.status_code == 302
    assert response["Location"] == "/done/"
    token = get_token("acme_oauth")
    assert token.access_token.startswith(TOKEN_PREFIX)
    assert token.refresh_token.startswith(TOKEN_PREFIX)
    assert token.scopes == ["read", "offline_access"]
    assert token.expires_at is not None
    assert [call.operation for call in outbox.filter("acme_oauth")] == [
        "oauth2_authorize",
        "oauth2_callback",
    ]
    row = IntegrationLog.objects.get(operation="oauth2_callback")
    assert row.success
    assert row.simulated


def test_deny_is_access_denied(simulating):
    answer = simulating.post(consent_page(simulating), {"action": "deny"})
    assert parse_qs(urlsplit(answer["Location"]).query)["error"] == ["access_denied"]
    response = simulating.get(local(answer["Location"]))
    assert response.status_code == 400
    assert "The authorization was refused" in response.content.decode()
    assert not OAuth2Token.objects.exists()
    assert IntegrationLog.objects.get(operation="oauth2_callback").error_code == "access_denied"


def test_a_per_user_connection_in_simulation(simulating, django_user_model):
    user = django_user_model.objects.create_user("ada")
    simulating.force_login(user)
    page = consent_page(simulating, "acme_per_user")
    assert "access to your Acme per user account" in simulating.get(page).content.decode()
    answer = simulating.post(page, {"action": "approve"})
    assert simulating.get(local(answer["Location"])).status_code == 302
    assert get_token("acme_per_user", user) is not None


def test_the_simulated_token_endpoint_checks_pkce(simulating):
    page = consent_page(simulating)
    answer = simulating.post(page, {"action": "approve"})
    state = parse_qs(urlsplit(answer["Location"]).query)["state"][0]
    session = simulating.session
    session[SESSION_PREFIX + state] = {**session[SESSION_PREFIX + state], "verifier": "x" * 48}
    session.save()
    response = simulating.get(local(answer["Location"]))
    assert response.status_code == 400
    assert "(invalid_grant)" in response.content.decode()
    assert not OAuth2Token.objects.exists()


def test_a_forged_code_is_refused(simulating):
    answer = simulating.post(consent_page(simulating), {"action": "approve"})
    query = parse_qs(urlsplit(answer["Location"]).query)
    forged = {"state": query["state"][0], "code": query["code"][0] + "x"}
    response = simulating.get(url("callback"), forged)
    assert response.status_code == 400
    assert not OAuth2Token.objects.exists()


def test_the_consent_page_redirects_only_to_this_sites_callback(simulating):
    page = urlsplit(consent_page(simulating))
    query = {name: values[0] for name, values in parse_qs(page.query).items()}
    query["redirect_uri"] = "https://evil.example/steal"
    forged = f"{page.path}?{urlencode(query)}"
    assert simulating.get(forged).status_code == 400
    response = simulating.post(forged, {"action": "approve"})
    assert response.status_code == 400
    assert "evil.example" not in response.get("Location", "")


def test_the_consent_page_does_not_exist_when_not_simulating(simulating, settings):
    page = consent_page(simulating)
    settings.PATCHBAY_SIMULATE = False
    assert simulating.get(page).status_code == 404
    assert simulating.post(page, {"action": "approve"}).status_code == 404


def test_disconnect_in_simulation(simulating):
    answer = simulating.post(consent_page(simulating), {"action": "approve"})
    simulating.get(local(answer["Location"]))
    response = simulating.post(url("disconnect"))
    assert response.status_code == 200
    assert not OAuth2Token.objects.exists()
    assert outbox.filter("acme_oauth", "oauth2_revoke")[0].data["revoked"] is True
