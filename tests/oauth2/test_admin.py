"""OAuth2 in the admin: Connect/Reconnect/Disconnect on the service, tokens never shown."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patchbay.models import ExternalService, OAuth2Token
from patchbay.oauth2.tokens import save_token
from tests.conftest import assert_constant_queries
from tests.oauth2.clients import AcmeOAuthClient
from tests.oauth2.conftest import connect

pytestmark = pytest.mark.django_db

TOKEN_VALUES = {
    "access_token": "at-never-shown-0123456789",
    "refresh_token": "rt-never-shown-987654",
}


@pytest.fixture
def service():
    return row("acme_oauth", "Acme OAuth")


def row(provider, name):
    service, _ = ExternalService.objects.get_or_create(provider=provider, defaults={"name": name})
    return service


def change_page(admin_client, service):
    response = admin_client.get(reverse("admin:patchbay_externalservice_change", args=[service.pk]))
    assert response.status_code == 200
    return response.content.decode()


def buttons(page):
    """The formaction of each connection button, and its label."""
    found = []
    for chunk in page.split('formaction="')[1:]:
        action, _, rest = chunk.partition('"')
        label = rest.partition(">")[2].partition("</button>")[0]
        found.append((urlsplit(html.unescape(action)).path, label))
    return found


def assert_no_token_values(page, token_values=TOKEN_VALUES):
    for value in token_values.values():
        assert value not in page


def test_a_service_not_connected_offers_connect(admin_client, service):
    page = change_page(admin_client, service)
    assert "Not connected." in page
    assert buttons(page) == [
        (reverse("patchbay:oauth2-connect", kwargs={"provider": "acme_oauth"}), "Connect")
    ]


def test_a_connected_service_shows_the_connection_not_its_tokens(admin_client, admin_user, service):
    save_token(
        "acme_oauth",
        None,
        {**TOKEN_VALUES, "expires_in": 1800, "scope": "read offline_access"},
        connected_by=admin_user,
    )
    page = change_page(admin_client, service)
    assert "Active" in page
    assert "read offline_access" in page
    assert "admin" in page  # connected by
    assert buttons(page) == [
        (reverse("patchbay:oauth2-disconnect", kwargs={"provider": "acme_oauth"}), "Disconnect")
    ]
    assert_no_token_values(page)


def test_reauthorization_required_offers_reconnect(admin_client, service):
    token = save_token("acme_oauth", None, TOKEN_VALUES)
    token.status = OAuth2Token.Status.REAUTHORIZATION_REQUIRED
    token.last_error = "Acme OAuth refused to refresh the OAuth2 token (invalid_grant)"
    token.save()
    page = change_page(admin_client, service)
    assert [label for _, label in buttons(page)] == ["Reconnect", "Disconnect"]
    assert "invalid_grant" in page
    assert_no_token_values(page)


def test_the_change_page_costs_the_same_queries_connected_or_not(admin_client, service):
    change_page(admin_client, service)  # warm the session and content types

    def count():
        with CaptureQueriesContext(connection) as queries:
            change_page(admin_client, service)
        return len(queries)

    before = count()
    save_token("acme_oauth", None, TOKEN_VALUES)
    assert count() == before


def test_a_service_without_oauth2_has_no_connection_panel(admin_client):
    service = row("key_in_header", "Keys")
    assert "OAuth2 connection" not in change_page(admin_client, service)


def test_the_connect_button_runs_the_flow_and_comes_back(admin_client, service, server, settings):
    settings.PATCHBAY_PUBLIC_URL = "http://testserver"
    page = change_page(admin_client, service)
    assert [label for _, label in buttons(page)] == ["Connect"]
    form_action = html.unescape(page.split('formaction="')[1].partition('"')[0])
    response = admin_client.post(form_action, {"name": "Acme OAuth"})
    assert response.status_code == 302
    callback = urlsplit(server.authorize(response["Location"]))
    back = admin_client.get(f"{callback.path}?{callback.query}", follow=True)
    assert back.redirect_chain[-1][0] == reverse(
        "admin:patchbay_externalservice_change", args=[service.pk]
    )
    page = back.content.decode()
    assert "Acme OAuth is connected." in page
    assert_no_token_values(page, OAuth2Token.objects.get().tokens)


def test_the_disconnect_button(admin_client, service, server):
    token = connect(server, AcmeOAuthClient())
    page = change_page(admin_client, service)
    form_action = html.unescape(page.split('formaction="')[1].partition('"')[0])
    response = admin_client.post(form_action, follow=True)
    assert "Acme OAuth is disconnected." in response.content.decode()
    assert server.live_token(token.access_token) is None
    assert not OAuth2Token.objects.exists()


def test_per_user_services_link_to_their_connections(admin_client, django_user_model):
    service = row("acme_per_user", "Per user")
    for name in ("ada", "bob"):
        save_token("acme_per_user", django_user_model.objects.create_user(name), TOKEN_VALUES)
    page = change_page(admin_client, service)
    assert "2 connected" in page
    assert "provider=acme_per_user" in page
    assert buttons(page) == []


# -- the OAuth2Token admin ----------------------------------------------------------


def test_the_token_admin_never_shows_token_values(admin_client, admin_user):
    token = save_token("acme_per_user", admin_user, {**TOKEN_VALUES, "scope": "read"})
    listing = admin_client.get(reverse("admin:patchbay_oauth2token_changelist")).content.decode()
    detail = admin_client.get(reverse("admin:patchbay_oauth2token_change", args=[token.pk]))
    assert detail.status_code == 200
    for page in (listing, detail.content.decode()):
        assert "acme_per_user" in page
        assert_no_token_values(page)
    assert 'name="_save"' not in detail.content.decode()


def test_the_token_admin_is_read_only(admin_client, admin_user):
    token = save_token("acme_oauth", None, TOKEN_VALUES)
    assert admin_client.get(reverse("admin:patchbay_oauth2token_add")).status_code == 403
    change = reverse("admin:patchbay_oauth2token_change", args=[token.pk])
    assert admin_client.post(change, {"token_type": "MAC"}).status_code == 403
    token.refresh_from_db()
    assert token.token_type == "Bearer"


def test_the_token_changelist_uses_a_constant_number_of_queries(admin_client, django_user_model):
    def add_rows(start, stop):
        for number in range(start, stop):
            user = django_user_model.objects.create_user(f"user{number}")
            save_token("acme_per_user", user, TOKEN_VALUES, connected_by=user)

    url = reverse("admin:patchbay_oauth2token_changelist")
    assert_constant_queries(admin_client, url, add_rows, few=2, many=20)
