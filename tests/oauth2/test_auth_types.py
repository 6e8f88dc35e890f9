"""The four authentication declarations, sent to the test server's echo endpoint."""

from __future__ import annotations

import base64

import pytest

from patchbay.core.auth import ApiKeyAuth, OAuth2Auth
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.core.registry import _clients
from patchbay.models import IntegrationLog
from patchbay.oauth2.provider import OAuth2Provider
from tests.oauth2.clients import (
    AcmeOAuthClient,
    BasicClient,
    BearerClient,
    KeyInHeaderClient,
    KeyInQueryClient,
    PrefixedKeyClient,
    ServerClient,
)

KEY = "key-0123456789abcdef"
pytestmark = pytest.mark.django_db


def test_an_api_key_in_a_header(server):
    answer = KeyInHeaderClient(api_key=KEY).echo()
    assert answer["x_api_key"] == KEY
    assert answer["authorization"] == ""


def test_an_api_key_with_a_prefix(server):
    assert PrefixedKeyClient(api_key=KEY).echo()["authorization"] == f"Token {KEY}"


def test_an_api_key_as_a_query_parameter_beside_the_others(server):
    answer = KeyInQueryClient(token=KEY).echo(page="2")
    assert answer["query"] == {"page": "2", "key": KEY}
    assert answer["x_api_key"] == ""


def test_basic_credentials_are_sent_and_masked(server):
    client = BasicClient(account="AC123", password="pass-0123456789")
    encoded = base64.b64encode(b"AC123:pass-0123456789").decode()
    assert client.echo()["authorization"] == f"Basic {encoded}"
    assert client.basic_auth() == [("AC123", "pass-0123456789")]
    assert encoded not in client.redactor.text(f"it sent {encoded}")


def test_a_bearer_token(server):
    assert BearerClient(api_token=KEY).echo()["authorization"] == f"Bearer {KEY}"


def test_the_caller_s_headers_and_parameters_are_kept(server):
    client = KeyInHeaderClient(api_key=KEY)
    answer = client.http(
        "GET", f"{server.url}/api/echo", headers={"X-Trace": "t-1"}, params={"q": "x"}
    ).json()
    assert (answer["x_api_key"], answer["x_trace"], answer["query"]) == (KEY, "t-1", {"q": "x"})


def test_a_401_to_another_authentication_is_not_retried(server):
    response = KeyInHeaderClient(api_key=KEY).http("GET", server.api_url)
    assert response.status_code == 401
    assert server.api_requests == 1


def test_without_authentication_nothing_is_added(server):
    class Plain(ServerClient):
        config_fields = {"api_url": ConfigField(setting="TEST_SERVER_API_URL")}

    answer = Plain().echo()
    assert (answer["authorization"], answer["x_api_key"]) == ("", "")


def test_the_declared_values_join_the_config_fields():
    assert KeyInHeaderClient.config_fields["api_key"] == ConfigField(
        setting="KEY_IN_HEADER_API_KEY", secret=True
    )
    assert BasicClient.config_fields["account"].setting == "BASIC_SERVICE_ACCOUNT"
    assert not BasicClient.config_fields["account"].secret
    assert BasicClient.config_fields["password"].secret
    fields = AcmeOAuthClient.config_fields
    assert fields["oauth2_client_id"].setting == "ACME_OAUTH_OAUTH2_CLIENT_ID"
    assert fields["oauth2_client_secret"].secret
    assert not fields["oauth2_client_secret"].required
    assert fields["oauth2_token_url"].default == "https://acme.example/token"
    assert fields["oauth2_scopes"].default == ["read", "offline_access"]
    assert "api_url" in fields


def test_a_value_the_client_declares_itself_wins():
    class OwnKey(BaseClient):
        provider = "own_key_service"
        config_fields = {"api_key": ConfigField(setting="LEGACY_KEY", secret=True)}
        authentication = ApiKeyAuth()

    _clients.pop(OwnKey.provider)
    assert OwnKey.config_fields["api_key"].setting == "LEGACY_KEY"


def test_a_subclass_for_another_provider_reads_settings_of_its_own():
    class Parent(BaseClient):
        provider = "parent_service"
        config_fields = {"region": ConfigField(setting="PARENT_REGION", required=False)}
        authentication = ApiKeyAuth()

    class Child(Parent):
        provider = "child_service"

    for made in (Parent, Child):
        _clients.pop(made.provider)
    assert Parent.config_fields["api_key"].setting == "PARENT_SERVICE_API_KEY"
    assert Child.config_fields["api_key"].setting == "CHILD_SERVICE_API_KEY"
    assert Child.config_fields["region"].setting == "PARENT_REGION"  # declared: inherited


def test_a_missing_key_is_not_configured(server):
    result = KeyInHeaderClient().echo()
    assert result["error_code"] == "not_configured"
    assert "KEY_IN_HEADER_API_KEY" in result["error"]
    assert server.api_requests == 0


def test_the_key_never_reaches_the_log(server):
    KeyInQueryClient(token=KEY).echo()
    server.stop()
    result = KeyInQueryClient(token=KEY).echo()
    assert result["error_code"] == "connection_error"
    for row in IntegrationLog.objects.all():
        assert KEY not in f"{row.error} {row.request_summary}"


def test_oauth2_settings_override_the_declaration(settings, db):
    settings.ACME_OAUTH_OAUTH2_TOKEN_URL = "https://login.acme.example/token"
    settings.ACME_OAUTH_OAUTH2_SCOPES = "read write"
    settings.ACME_OAUTH_OAUTH2_CLIENT_SECRET = "client-secret-value"
    provider = OAuth2Provider.of(AcmeOAuthClient(oauth2_client_id="cid"))
    assert provider.token_url == "https://login.acme.example/token"
    assert provider.authorize_url == "https://acme.example/authorize"
    assert provider.scopes == ("read", "write")
    assert provider.client_id == "cid"
    assert provider.token_endpoint_auth_method == "client_secret_basic"
    assert provider.pkce
    assert "client-secret-value" not in repr(provider)


def test_the_client_secret_is_masked_in_its_basic_form_too(settings, db):
    settings.ACME_OAUTH_OAUTH2_CLIENT_SECRET = "client-secret-value"
    client = AcmeOAuthClient(oauth2_client_id="cid")
    encoded = base64.b64encode(b"cid:client-secret-value").decode()
    assert client.basic_auth() == [("cid", "client-secret-value")]
    assert encoded not in client.redactor.text(f"sent {encoded}")


def test_a_public_client_authenticates_with_none(db):
    assert OAuth2Provider.of(AcmeOAuthClient()).token_endpoint_auth_method == "none"


def test_oauth2_provider_needs_an_oauth2_client():
    with pytest.raises(TypeError, match="declares no OAuth2Auth"):
        OAuth2Provider.of(KeyInHeaderClient())
    assert isinstance(AcmeOAuthClient.authentication, OAuth2Auth)
