"""The system checks of OAuth2 clients (patchbay.E050, E051, W050)."""

from __future__ import annotations

import pytest

from patchbay import checks
from patchbay.core import registry
from patchbay.core.auth import OAuth2Auth
from patchbay.core.client import BaseClient


@pytest.fixture
def declare():
    """Declare an OAuth2 client for one test (forgotten by the registry afterwards)."""
    declared = []

    def make(provider, **auth):
        auth.setdefault("authorize_url", "https://id.example/authorize")
        auth.setdefault("token_url", "https://id.example/token")
        client_class = type(
            "Declared",
            (BaseClient,),
            {"provider": provider, "display_name": "Checked", "authentication": OAuth2Auth(**auth)},
        )
        declared.append(provider)
        return client_class

    yield make
    for provider in declared:
        registry._clients.pop(provider, None)


def messages(check_id):
    return [message for message in checks.check_oauth2_clients() if message.id == check_id]


def test_well_declared_clients_pass(declare, settings):
    settings.PATCHBAY_SIMULATE = False
    declare("checked_idp", revocation_url="https://id.example/revoke")
    settings.CHECKED_IDP_OAUTH2_TOKEN_URL = "http://127.0.0.1:8000/token"  # loopback: fine
    assert checks.check_oauth2_clients() == []


def test_e050_an_endpoint_that_is_not_https(declare, settings):
    declare("checked_idp", revocation_url="http://id.example/revoke")
    settings.CHECKED_IDP_OAUTH2_TOKEN_URL = "http://id.example/token"
    found = messages("patchbay.E050")
    assert [message.msg for message in found] == [
        f"Checked's CHECKED_IDP_OAUTH2_{name}_URL 'http://id.example/{path}' is not an https "
        "URL: tokens and the client secret would cross the network in clear."
        for name, path in (("TOKEN", "token"), ("REVOCATION", "revoke"))
    ]
    assert "127.0.0.1" in found[0].hint


def test_e051_an_unknown_token_endpoint_auth_method(declare):
    declare("checked_idp", token_endpoint_auth_method="private_key_jwt")
    [found] = messages("patchbay.E051")
    assert "private_key_jwt" in found.msg
    assert found.hint == "Use the method the provider documents for its token endpoint."


def test_w050_a_public_client_without_pkce(declare, settings):
    settings.PATCHBAY_SIMULATE = False
    declare("checked_idp", pkce=False)
    assert messages("patchbay.W050") == []  # not configured in settings: nothing to say
    settings.CHECKED_IDP_OAUTH2_CLIENT_ID = "client"
    [found] = messages("patchbay.W050")
    assert "CHECKED_IDP_OAUTH2_CLIENT_SECRET" in found.hint
    settings.CHECKED_IDP_OAUTH2_CLIENT_SECRET = "secret"
    assert messages("patchbay.W050") == []


def test_w003_names_authlib_when_it_is_missing(declare, settings, monkeypatch):
    client_class = declare("checked_idp")
    settings.CHECKED_IDP_OAUTH2_CLIENT_ID = "client"
    monkeypatch.setattr(
        "patchbay.core.declaration.sdk_available", lambda module: module != "authlib"
    )
    [found] = checks._check_service(client_class, True)
    assert found.id == "patchbay.W003"
    assert "(authlib)" in found.msg
    assert found.hint == 'pip install "django-patchbay[oauth2]"'
