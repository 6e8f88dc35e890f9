"""The authorization flow through the views, against the test authorization server.

The test client posts to connect, the test server's authorize step answers
with its 302 to the callback (as a browser would follow it), and the test
client follows that to the callback view.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from patchbay.models import IntegrationLog, OAuth2Token
from patchbay.oauth2.flow import SESSION_PREFIX
from patchbay.oauth2.tokens import get_token
from tests.oauth2.clients import AcmeOAuthClient, AcmePerUserClient
from tests.oauth2.conftest import connect

pytestmark = pytest.mark.django_db

PUBLIC_URL = "http://testserver"
NEXT = "/admin/patchbay/externalservice/"


@pytest.fixture
def live(server, settings):
    settings.PATCHBAY_PUBLIC_URL = PUBLIC_URL
    return server


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_user("staff", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_externalservice"))
    return user


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user("member")


def url(name, provider="acme_oauth"):
    return reverse(f"patchbay:oauth2-{name}", kwargs={"provider": provider})


def local(location):
    """The path and query of an absolute URL of this site, for the test client."""
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def start(client, provider="acme_oauth", **data):
    response = client.post(url("connect", provider), data)
    assert response.status_code == 302, response.content
    return response["Location"]


def connect_through_views(client, server, provider="acme_oauth", **data):
    callback = server.authorize(start(client, provider, **data))
    return client.get(local(callback))


def failure_rows(operation="oauth2_callback"):
    return list(IntegrationLog.objects.filter(operation=operation, success=False))


def assert_refused(response, status, text, error_code, operation="oauth2_callback"):
    assert response.status_code == status
    assert text in response.content.decode()
    rows = failure_rows(operation)
    assert [row.error_code for row in rows] == [error_code]
    return rows[0]


# -- the code flow with PKCE --------------------------------------------------------


def test_staff_connect_the_site_wide_connection_with_pkce(client, live, staff):
    client.force_login(staff)
    authorize = start(client, next=NEXT)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(live.authorize_url + "?")
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [PUBLIC_URL + url("callback")]
    assert query["scope"] == ["read offline_access"]
    state = query["state"][0]
    assert client.session[SESSION_PREFIX + state]["verifier"]

    response = client.get(local(live.authorize(authorize)))

    assert response.status_code == 302
    assert response["Location"] == NEXT
    token = get_token("acme_oauth")
    assert token.user is None
    assert token.connected_by == staff
    assert token.scopes == ["read", "offline_access"]
    assert live.code_exchanges == 1
    assert live.live_token(token.access_token) is not None
    assert SESSION_PREFIX + state not in client.session  # single-use
    row = IntegrationLog.objects.get(operation="oauth2_callback")
    assert row.success
    assert row.request_summary == {"user": "site"}
    assert AcmeOAuthClient().me()["user"] == "alice"


def test_pkce_is_checked_by_the_server(client, live, staff):
    # The verifier the callback sends must answer the challenge of the authorize request.
    client.force_login(staff)
    authorize = start(client)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    session = client.session
    session[SESSION_PREFIX + state] = {
        **session[SESSION_PREFIX + state],
        "verifier": "not-the-verifier-" + "x" * 40,
    }
    session.save()
    response = client.get(local(live.authorize(authorize)))
    assert_refused(response, 400, "refused the authorization code", "authentication_error")
    assert get_token("acme_oauth") is None


def test_without_next_the_callback_says_connected(client, live, staff):
    client.force_login(staff)
    response = connect_through_views(client, live)
    assert response.status_code == 200
    assert "Acme OAuth is connected." in response.content.decode()


def test_a_next_url_of_another_site_is_dropped(client, live, staff):
    client.force_login(staff)
    response = connect_through_views(client, live, next="https://evil.example/")
    assert response.status_code == 200
    assert get_token("acme_oauth") is not None


def test_a_signed_in_user_connects_their_own_account(client, live, member, django_user_model):
    other = django_user_model.objects.create_user("other")
    client.force_login(member)
    response = connect_through_views(client, live, "acme_per_user", next="/account/")
    assert response.status_code == 302
    token = get_token("acme_per_user", member)
    assert token.connected_by == member
    assert get_token("acme_per_user") is None
    assert get_token("acme_per_user", other) is None
    assert AcmePerUserClient(user=member).me()["success"]
    assert AcmePerUserClient(user=other).me()["error_code"] == "not_connected"


def test_non_staff_may_not_connect_the_site_wide_connection(client, live, member):
    client.force_login(member)
    response = client.post(url("connect"))
    assert_refused(response, 403, "takes a staff user", "permission_error", "oauth2_authorize")
    assert live.code_exchanges == 0


def test_staff_without_the_permission_may_not_either(client, live, django_user_model):
    client.force_login(django_user_model.objects.create_user("clerk", is_staff=True))
    response = client.post(url("connect"))
    assert_refused(
        response, 403, "patchbay.change_externalservice", "permission_error", "oauth2_authorize"
    )


@pytest.mark.parametrize("provider", ["acme_oauth", "acme_per_user"])
def test_anonymous_users_are_refused(client, live, provider):
    response = client.post(url("connect", provider))
    assert_refused(response, 403, "Sign in to connect", "permission_error", "oauth2_authorize")


def test_connect_takes_a_post(client, live, staff):
    client.force_login(staff)
    assert client.get(url("connect")).status_code == 405


def test_an_unknown_provider_is_not_found(client, live, staff):
    client.force_login(staff)
    assert client.post(url("connect", "nope")).status_code == 404
    assert client.get(url("callback", "stripe")).status_code == 404  # not an OAuth2 client


# -- refused callbacks --------------------------------------------------------------


def test_a_state_this_session_did_not_start_is_refused(client, live, staff):
    client.force_login(staff)
    callback = live.authorize(start(client))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    response = client.get(url("callback"), {"code": code, "state": "forged"})
    assert_refused(response, 400, "does not match one started", "invalid_state")
    assert live.code_exchanges == 0
    assert get_token("acme_oauth") is None


def test_a_callback_in_another_browser_is_refused(client, live, staff):
    client.force_login(staff)
    callback = live.authorize(start(client))
    attacker = Client()
    attacker.force_login(staff)  # even the same account, in a session that did not start it
    response = attacker.get(local(callback))
    assert_refused(response, 400, "does not match", "invalid_state")
    assert live.code_exchanges == 0


def test_a_replayed_state_is_refused(client, live, staff):
    client.force_login(staff)
    callback = local(live.authorize(start(client)))
    assert client.get(callback).status_code == 200
    response = client.get(callback)
    assert_refused(response, 400, "was used already", "invalid_state")
    assert live.code_exchanges == 1


def test_a_state_of_another_provider_is_refused(client, live, staff):
    client.force_login(staff)
    callback = urlsplit(live.authorize(start(client)))
    response = client.get(f"{url('callback', 'acme_per_user')}?{callback.query}")
    assert response.status_code == 400
    assert live.code_exchanges == 0


def test_an_expired_state_is_refused(client, live, staff, settings):
    client.force_login(staff)
    authorize = start(client)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    session = client.session
    session[SESSION_PREFIX + state] = {**session[SESSION_PREFIX + state], "started": 0}
    session.save()
    response = client.get(local(live.authorize(authorize)))
    assert_refused(response, 400, "took longer than 600 seconds", "invalid_state")
    assert live.code_exchanges == 0


def test_expired_states_are_forgotten_when_another_starts(client, live, staff):
    client.force_login(staff)
    first = parse_qs(urlsplit(start(client)).query)["state"][0]
    session = client.session
    session[SESSION_PREFIX + first] = {**session[SESSION_PREFIX + first], "started": 0}
    session.save()
    second = parse_qs(urlsplit(start(client)).query)["state"][0]
    pending = [key for key in client.session.keys() if key.startswith(SESSION_PREFIX)]  # noqa: SIM118
    assert pending == [SESSION_PREFIX + second]


def test_a_callback_for_another_user_is_refused(client, live, staff, django_user_model):
    client.force_login(staff)
    callback = local(live.authorize(start(client)))
    session = client.session
    other = django_user_model.objects.create_superuser("root")
    state = next(key for key in session.keys() if key.startswith(SESSION_PREFIX))  # noqa: SIM118
    session[state] = {**session[state], "user": str(other.pk)}
    session.save()
    response = client.get(callback)
    assert_refused(response, 403, "started by another account", "permission_error")


def test_access_denied_is_a_page_and_a_row(client, live, staff):
    live.deny()
    client.force_login(staff)
    response = connect_through_views(client, live)
    assert_refused(response, 400, "The authorization was refused", "access_denied")
    assert live.code_exchanges == 0
    assert get_token("acme_oauth") is None


def test_another_error_of_the_provider_is_quoted(client, live, staff):
    client.force_login(staff)
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = client.get(
        url("callback"),
        {"state": state, "error": "invalid_scope", "error_description": "no such scope"},
    )
    assert_refused(response, 502, "&#x27;invalid_scope&#x27;: no such scope", "api_error")


def test_a_missing_code_is_refused(client, live, staff):
    client.force_login(staff)
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = client.get(url("callback"), {"state": state})
    assert_refused(response, 400, "without an authorization code", "invalid_request")


def test_a_token_endpoint_refusing_the_code(client, live, staff, settings):
    settings.ACME_OAUTH_OAUTH2_CLIENT_SECRET = "a-wrong-secret"
    client.force_login(staff)
    response = connect_through_views(client, live)
    row = assert_refused(
        response, 400, "refused the authorization code (invalid_client)", "authentication_error"
    )
    assert "a-wrong-secret" not in row.error
    assert live.code_exchanges == 1
    assert get_token("acme_oauth") is None


def test_a_token_endpoint_that_cannot_be_reached(client, live, staff, settings):
    settings.ACME_OAUTH_OAUTH2_TOKEN_URL = "http://127.0.0.1:9/token"  # discard: refused
    client.force_login(staff)
    response = connect_through_views(client, live)
    assert_refused(response, 502, "Could not connect to Acme OAuth", "connection_error")
    assert get_token("acme_oauth") is None


def test_a_failing_token_endpoint_is_never_a_500(client, live, staff, settings):
    settings.ACME_OAUTH_OAUTH2_TOKEN_URL = live.url + "/api/missing"  # 404, no OAuth2 error
    client.force_login(staff)
    response = connect_through_views(client, live)
    assert response.status_code in (400, 502)
    assert len(failure_rows()) == 1


def test_an_anonymous_callback_is_refused(client, live):
    response = client.get(url("callback"), {"state": "x", "code": "y"})
    assert_refused(response, 400, "does not match", "invalid_state")


def test_a_callback_not_configured_is_a_page(client, live, staff, settings):
    client.force_login(staff)
    authorize = start(client)
    callback = local(live.authorize(authorize))
    settings.ACME_OAUTH_OAUTH2_CLIENT_ID = None
    response = client.get(callback)
    assert response.status_code == 503
    assert "ACME_OAUTH_OAUTH2_CLIENT_ID" in response.content.decode()


# -- disconnecting ------------------------------------------------------------------


def test_disconnect_revokes_at_the_provider_then_deletes(client, live, staff):
    token = connect(live, AcmeOAuthClient())
    client.force_login(staff)
    response = client.post(url("disconnect"), {"next": NEXT})
    assert response.status_code == 302
    assert response["Location"] == NEXT
    assert live.revocations == 1
    assert live.live_token(token.access_token) is None  # the whole grant is revoked
    assert not OAuth2Token.objects.exists()
    row = IntegrationLog.objects.get(operation="oauth2_revoke")
    assert row.success
    assert token.refresh_token not in str(row.request_summary)


def test_disconnect_without_a_revocation_url_only_deletes(client, live, staff, settings):
    settings.ACME_OAUTH_OAUTH2_REVOCATION_URL = None
    connect(live, AcmeOAuthClient())
    client.force_login(staff)
    response = client.post(url("disconnect"))
    assert response.status_code == 200
    assert "Acme OAuth is disconnected." in response.content.decode()
    assert live.revocations == 0
    assert not OAuth2Token.objects.exists()


def test_a_failed_revocation_keeps_the_connection(client, live, staff, settings):
    settings.ACME_OAUTH_OAUTH2_REVOCATION_URL = live.url + "/api/missing"
    connect(live, AcmeOAuthClient())
    client.force_login(staff)
    response = client.post(url("disconnect"))
    assert_refused(response, 502, "answered HTTP 404", "api_error", "oauth2_revoke")
    assert OAuth2Token.objects.count() == 1


def test_a_user_disconnects_their_own_connection_only(client, live, member, django_user_model):
    other = django_user_model.objects.create_user("other")
    connect(live, AcmePerUserClient(user=member), member)
    connect(live, AcmePerUserClient(user=other), other)
    client.force_login(member)
    assert client.post(url("disconnect", "acme_per_user")).status_code == 200
    assert get_token("acme_per_user", member) is None
    assert get_token("acme_per_user", other) is not None
    assert live.revocations == 1


def test_non_staff_may_not_disconnect_the_site(client, live, member):
    connect(live, AcmeOAuthClient())
    client.force_login(member)
    response = client.post(url("disconnect"))
    assert_refused(response, 403, "takes a staff user", "permission_error", "oauth2_revoke")
    assert OAuth2Token.objects.count() == 1
    assert live.revocations == 0


def test_disconnecting_nothing_succeeds_without_a_request(client, live, staff):
    client.force_login(staff)
    assert client.post(url("disconnect")).status_code == 200
    assert live.revocations == 0


# -- the callback URL ---------------------------------------------------------------


def test_the_callback_url_is_built_from_the_public_url(client, live, staff, settings):
    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    client.force_login(staff)
    query = parse_qs(urlsplit(start(client)).query)
    assert query["redirect_uri"] == [
        "https://app.example.com/integrations/oauth2/acme_oauth/callback/"
    ]


def test_without_a_public_url_the_callback_is_the_request_host(client, server, staff):
    client.force_login(staff)
    query = parse_qs(urlsplit(start(client)).query)
    assert query["redirect_uri"] == ["http://testserver/integrations/oauth2/acme_oauth/callback/"]


def test_tokens_never_reach_the_log_rows(client, live, staff):
    client.force_login(staff)
    connect_through_views(client, live)
    token = get_token("acme_oauth")
    client.post(url("disconnect"))
    for row in IntegrationLog.objects.all():
        stored = f"{row.error} {row.request_summary}"
        assert token.access_token not in stored
        assert token.refresh_token not in stored
