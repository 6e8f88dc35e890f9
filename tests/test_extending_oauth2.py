"""The OAuth2 worked example of "Adding your own service" (tests/extending/acme_crm).

Acme CRM's authorization server is the tests' real one (tests/oauth2_server.py, on
127.0.0.1), and users connect through patchbay's views, as in a browser; its API is
mocked with ``responses``, answering 401 unless the bearer token is one the
authorization server issued and still honours.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import responses
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from responses import matchers

from patchbay.models import IntegrationLog, OAuth2Token
from patchbay.oauth2.tokens import save_token
from tests.extending.acme_crm.client import API_URL, AcmeCrmClient

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.extending.urls")]

CLIENT_ID = "acme-crm-client-id"
CLIENT_SECRET = "acme-crm-client-secret-0123456789"
CONTACTS_URL = f"{API_URL}/contacts"


@pytest.fixture
def acme_login(oauth2_server, settings):
    """Acme CRM's authorization server, with the project registered as a client."""
    oauth2_server.register_client(CLIENT_ID, CLIENT_SECRET)
    settings.PATCHBAY_PUBLIC_URL = "http://testserver"  # the callback URL: the test client's
    settings.ACME_CRM_OAUTH2_CLIENT_ID = CLIENT_ID
    settings.ACME_CRM_OAUTH2_CLIENT_SECRET = CLIENT_SECRET
    settings.ACME_CRM_OAUTH2_AUTHORIZE_URL = oauth2_server.authorize_url
    settings.ACME_CRM_OAUTH2_TOKEN_URL = oauth2_server.token_url
    settings.ACME_CRM_OAUTH2_REVOCATION_URL = oauth2_server.revocation_url
    # Settings override the declared scopes too: the tests' server knows read and write.
    settings.ACME_CRM_OAUTH2_SCOPES = ["write", "offline_access"]
    return oauth2_server


@pytest.fixture
def api(patchbay_live, acme_login):
    """Acme CRM's API, mocked: it honours the tokens the authorization server issued."""

    def add_contact(request):
        issued = acme_login.live_token(presented_token(request))
        if issued is None:
            return refused(request)
        contact = json.loads(request.body)
        return 201, {}, json.dumps({"id": f"ct_{issued.user}", **contact})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(acme_login.url)  # the authorization server is a real one
        mock.add_callback("POST", CONTACTS_URL, callback=add_contact)
        yield mock


def presented_token(request):
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


def refused(request):
    # Quoting the token, as some APIs do: the client must mask it.
    return 401, {}, json.dumps({"message": f"Invalid access token {presented_token(request)}."})


def connect(server, user):
    """Connect Acme CRM as ``user`` does in a browser: the button, Acme CRM's consent, back."""
    browser = Client()
    browser.force_login(user)
    connect_url = reverse("patchbay:oauth2-connect", kwargs={"provider": "acme_crm"})
    to_provider = browser.post(connect_url, {"next": "/crm/"})
    back = urlsplit(server.authorize(to_provider["Location"]))  # the user approved
    assert browser.get(f"{back.path}?{back.query}").status_code == 302  # to next
    return OAuth2Token.objects.get(provider="acme_crm", user=user)


def contact_requests(api):
    return [call for call in api.calls if call.request.url == CONTACTS_URL]


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user("ada")


# -- calls with the user's token -------------------------------------------------------


def test_a_connected_user_adds_a_contact_with_their_token(api, acme_login, ada):
    token = connect(acme_login, ada)

    result = AcmeCrmClient(user=ada).add_contact("grace@example.com", "Grace Hopper")

    assert result == {"success": True, "contact_id": "ct_alice"}
    [call] = contact_requests(api)
    assert call.request.headers["Authorization"] == f"Bearer {token.access_token}"
    assert json.loads(call.request.body) == {"email": "grace@example.com", "name": "Grace Hopper"}
    assert token.scopes == ["write", "offline_access"]


def test_each_user_calls_with_their_own_connection(api, acme_login, ada, django_user_model):
    connect(acme_login, ada)
    bob = django_user_model.objects.create_user("bob")

    results = [
        AcmeCrmClient(user=bob).add_contact("grace@example.com"),
        AcmeCrmClient().add_contact("grace@example.com"),
    ]

    assert [result["error_code"] for result in results] == ["not_connected", "not_connected"]
    assert contact_requests(api) == []


def test_a_token_about_to_expire_is_refreshed_before_the_call(api, acme_login, ada):
    acme_login.set(expires_in=30)  # within PATCHBAY_OAUTH2_REFRESH_SKEW (60 s)
    old = connect(acme_login, ada)
    acme_login.set(expires_in=3600)

    result = AcmeCrmClient(user=ada).add_contact("grace@example.com")

    assert result["success"] is True
    assert acme_login.refresh_requests == 1
    new = OAuth2Token.objects.get(provider="acme_crm", user=ada)
    assert new.access_token != old.access_token
    assert contact_requests(api)[0].request.headers["Authorization"] == f"Bearer {new.access_token}"


def test_a_refused_token_gets_one_refresh_and_one_retry(api, acme_login, ada):
    token = connect(acme_login, ada)
    acme_login.revoke_access_token(token.access_token)  # revoked early at Acme CRM

    result = AcmeCrmClient(user=ada).add_contact("grace@example.com")

    assert result["success"] is True
    assert acme_login.refresh_requests == 1
    assert [call.response.status_code for call in contact_requests(api)] == [401, 201]


def test_a_refused_refresh_asks_the_user_to_connect_again(api, acme_login, ada):
    acme_login.set(expires_in=30)
    connect(acme_login, ada)
    acme_login.set(refuse_next_refresh=True)  # the user revoked the access at Acme CRM

    results = [AcmeCrmClient(user=ada).add_contact("grace@example.com") for _ in range(2)]

    assert [result["error_code"] for result in results] == ["reauthorization_required"] * 2
    assert acme_login.refresh_requests == 1  # the second call asked nobody
    assert contact_requests(api) == []
    token = OAuth2Token.objects.get(provider="acme_crm", user=ada)
    assert token.status == OAuth2Token.Status.REAUTHORIZATION_REQUIRED


def test_the_tokens_never_reach_the_result_or_the_log(api, acme_login, ada):
    old = connect(acme_login, ada)
    api.remove("POST", CONTACTS_URL)
    api.add_callback("POST", CONTACTS_URL, callback=refused)  # every token refused

    result = AcmeCrmClient(user=ada).add_contact("grace@example.com")

    assert result["error_code"] == "authentication_error"
    new = OAuth2Token.objects.get(provider="acme_crm", user=ada)  # refreshed once, refused too
    assert [presented_token(call.request) for call in contact_requests(api)] == [
        old.access_token,
        new.access_token,
    ]
    rows = json.dumps([model_to_dict(row) for row in IntegrationLog.objects.all()], default=str)
    for secret in (old.access_token, new.access_token, new.refresh_token, CLIENT_SECRET):
        assert secret not in result["error"]
        assert secret not in rows
    assert new.access_token not in repr(new) + repr(AcmeCrmClient(user=ada))


@pytest.mark.parametrize(
    ("status", "error_code", "retryable"),
    [
        (403, "permission_error", False),
        (409, "conflict", False),
        (422, "invalid_request", False),
        (429, "rate_limited", True),
        (503, "api_error", True),
    ],
)
def test_http_errors_are_mapped(api, acme_login, ada, status, error_code, retryable):
    connect(acme_login, ada)
    api.replace("POST", CONTACTS_URL, status=status, json={"message": "Nope."})

    result = AcmeCrmClient(user=ada).add_contact("grace@example.com")

    # A 429 puts the provider on hold: for a second, when it does not say how long.
    held = {"retry_after": 1} if status == 429 else {}
    assert result == {
        "success": False,
        "error": f"Acme CRM refused the request (HTTP {status}): Nope.",
        "error_code": error_code,
        "retryable": retryable,
        **held,
    }


def test_the_view_asks_the_user_to_connect_then_adds_the_lead(api, acme_login, ada):
    browser = Client()
    browser.force_login(ada)
    lead = {"email": "grace@example.com", "name": "Grace Hopper"}

    before = browser.post("/crm/leads/", lead)
    connect(acme_login, ada)
    after = browser.post("/crm/leads/", lead)

    assert before.status_code == 409
    assert before.json()["connect_url"] == "/integrations/oauth2/acme_crm/connect/"
    assert (after.status_code, after.json()) == (201, {"contact_id": "ct_alice"})


# -- testing without an authorization server ---------------------------------------------


@responses.activate
def test_with_a_stored_token(patchbay_live, settings, django_user_model):
    # A connection as the callback would have stored it; the API mocked as usual.
    settings.ACME_CRM_OAUTH2_CLIENT_ID = "test-client-id"
    user = django_user_model.objects.create_user("ada")
    save_token(AcmeCrmClient, user, {"access_token": "test-token", "expires_in": 3600})
    responses.post(
        CONTACTS_URL,
        json={"id": "ct_1"},
        match=[matchers.header_matcher({"Authorization": "Bearer test-token"})],
    )

    result = AcmeCrmClient(user=user).add_contact("grace@example.com")

    assert result == {"success": True, "contact_id": "ct_1"}


@responses.activate
def test_simulation_answers_offline_with_the_live_shape(
    patchbay_simulate, patchbay_outbox, django_user_model
):
    user = django_user_model.objects.create_user("ada")
    save_token(AcmeCrmClient, user, {"access_token": "simulated-token", "expires_in": 3600})

    result = AcmeCrmClient(user=user).add_contact("grace@example.com", "Grace Hopper")

    assert set(result) == {"success", "contact_id", "simulated"}
    assert result["contact_id"].startswith("ct_")
    assert len(responses.calls) == 0
    [call] = patchbay_outbox.filter(provider="acme_crm", operation="add_contact")
    assert call.data["email"] == "grace@example.com"


def test_a_simulated_call_fails_as_live_without_a_connection(
    patchbay_simulate, patchbay_outbox, django_user_model
):
    user = django_user_model.objects.create_user("ada")

    without_user = AcmeCrmClient().add_contact("grace@example.com")
    not_connected = AcmeCrmClient(user=user).add_contact("grace@example.com")
    save_token(AcmeCrmClient, user, {"access_token": "simulated-token", "expires_in": 3600})
    OAuth2Token.objects.update(status=OAuth2Token.Status.REAUTHORIZATION_REQUIRED)
    refused = AcmeCrmClient(user=user).add_contact("grace@example.com")

    assert without_user["error_code"] == "not_connected"
    assert not_connected["error_code"] == "not_connected"
    assert refused["error_code"] == "reauthorization_required"
    assert not patchbay_outbox.filter(provider="acme_crm", operation="add_contact")


def test_an_address_without_at_is_refused_before_anything_is_sent(patchbay_simulate):
    result = AcmeCrmClient().add_contact("grace")

    assert (result["success"], result["error_code"]) == (False, "invalid_request")
