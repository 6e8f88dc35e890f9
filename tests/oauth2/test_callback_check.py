"""patchbay.W055: a live OAuth2 client without PATCHBAY_PUBLIC_URL."""

from __future__ import annotations

import pytest

from patchbay import checks
from tests.oauth2 import clients  # noqa: F401  (registers the tests' OAuth2 clients)


def warnings(check_id="patchbay.W055"):
    return [message for message in checks.check_public_url_needed() if message.id == check_id]


@pytest.fixture
def live_client(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.PATCHBAY_PUBLIC_URL = ""
    settings.ACME_OAUTH_OAUTH2_CLIENT_ID = "client-id"


def test_a_live_oauth2_client_without_a_public_url(live_client):
    (warning,) = warnings()
    assert "Acme OAuth is a live OAuth2 client but PATCHBAY_PUBLIC_URL is not set" in warning.msg
    assert warning.hint == (
        'Set PATCHBAY_PUBLIC_URL = "https://example.com" (your site\'s public address), and '
        "register its callback URL at the provider."
    )


def test_not_with_a_public_url(live_client, settings):
    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    assert warnings() == []


def test_not_while_simulating(live_client, settings):
    settings.PATCHBAY_SIMULATE = True
    assert warnings() == []


def test_not_for_a_client_that_is_not_configured(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.PATCHBAY_PUBLIC_URL = ""
    assert warnings() == []
