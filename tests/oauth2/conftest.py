from __future__ import annotations

import pytest
from authlib.common.security import generate_token

from patchbay.oauth2.provider import OAuth2Provider
from patchbay.oauth2.tokens import save_token
from tests.oauth2_server import CLIENT_ID, CLIENT_SECRET

CALLBACK = "https://app.example.com/oauth2/callback/"


@pytest.fixture
def server(oauth2_server, settings):
    """The test authorization server, configured for the tests' OAuth2 clients, live."""
    settings.PATCHBAY_SIMULATE = False
    settings.TEST_SERVER_API_URL = oauth2_server.url
    for provider in ("ACME_OAUTH", "ACME_PER_USER"):
        setattr(settings, f"{provider}_OAUTH2_AUTHORIZE_URL", oauth2_server.authorize_url)
        setattr(settings, f"{provider}_OAUTH2_TOKEN_URL", oauth2_server.token_url)
        setattr(settings, f"{provider}_OAUTH2_REVOCATION_URL", oauth2_server.revocation_url)
        setattr(settings, f"{provider}_OAUTH2_CLIENT_ID", CLIENT_ID)
        setattr(settings, f"{provider}_OAUTH2_CLIENT_SECRET", CLIENT_SECRET)
    return oauth2_server


def connect(server, client, user=None):
    """Connect ``client`` as the authorization flow does: code, PKCE, exchange, save_token."""
    provider = OAuth2Provider.of(client)
    session = provider.session(redirect_uri=CALLBACK)
    verifier = generate_token(48)
    url, _ = session.create_authorization_url(provider.authorize_url, code_verifier=verifier)
    callback = server.authorize(url)
    token = session.fetch_token(
        provider.token_url, authorization_response=callback, code_verifier=verifier
    )
    return save_token(client, user, token, connected_by=user)
