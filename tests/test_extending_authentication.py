"""The authentication declarations of the extending guide (tests/extending/authentication.py)."""

from __future__ import annotations

import base64

import pytest
import responses
from responses import matchers

from patchbay.core.auth import OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET
from tests.extending.acme_crm.client import AcmeCrmClient
from tests.extending.acme_notify.client import AcmeNotifyClient
from tests.extending.authentication import AcmeLedgerClient, AcmeMapsClient, AcmeSearchClient

URL = "https://api.acme.example/v1/things"
pytestmark = pytest.mark.django_db  # the configuration may come from the admin


@responses.activate
def test_an_api_key_in_a_header(settings):
    settings.ACME_SEARCH_API_KEY = "search-key-0123456789"
    responses.get(URL, match=[matchers.header_matcher({"X-API-Key": "search-key-0123456789"})])

    assert AcmeSearchClient().http("GET", URL).status_code == 200


@responses.activate
def test_an_api_key_as_a_query_parameter(settings):
    settings.ACME_MAPS_API_KEY = "maps-key-0123456789"
    responses.get(
        URL, match=[matchers.query_param_matcher({"q": "Paris", "key": "maps-key-0123456789"})]
    )

    assert AcmeMapsClient().http("GET", URL, params={"q": "Paris"}).status_code == 200


@responses.activate
def test_basic_credentials_sent_and_masked(settings):
    settings.ACME_LEDGER_ACCOUNT_ID = "acct_42"
    settings.ACME_LEDGER_API_SECRET = "ledger-secret-0123456789"
    encoded = base64.b64encode(b"acct_42:ledger-secret-0123456789").decode()
    responses.get(URL, match=[matchers.header_matcher({"Authorization": f"Basic {encoded}"})])
    client = AcmeLedgerClient()

    assert client.http("GET", URL).status_code == 200
    assert encoded not in client.redactor.text(f"the API echoed Basic {encoded}")


@pytest.mark.parametrize(
    ("client_class", "settings_and_secrets"),
    [
        (AcmeSearchClient, {"api_key": ("ACME_SEARCH_API_KEY", True)}),
        (AcmeMapsClient, {"api_key": ("ACME_MAPS_API_KEY", True)}),
        (
            AcmeLedgerClient,
            {
                "account_id": ("ACME_LEDGER_ACCOUNT_ID", False),
                "api_secret": ("ACME_LEDGER_API_SECRET", True),
            },
        ),
        (
            AcmeNotifyClient,
            {
                "api_key": ("ACME_NOTIFY_API_KEY", True),
                "webhook_secret": ("ACME_NOTIFY_WEBHOOK_SECRET", True),
            },
        ),
    ],
)
def test_the_declared_values_are_configuration_named_after_the_provider(
    client_class, settings_and_secrets
):
    fields = client_class.config_fields

    assert {name: (field.setting, field.secret) for name, field in fields.items()} == (
        settings_and_secrets
    )


def test_an_oauth2_client_reads_its_client_id_and_secret():
    fields = AcmeCrmClient.config_fields

    assert fields[OAUTH2_CLIENT_ID].setting == "ACME_CRM_OAUTH2_CLIENT_ID"
    assert fields[OAUTH2_CLIENT_SECRET].setting == "ACME_CRM_OAUTH2_CLIENT_SECRET"
    assert fields[OAUTH2_CLIENT_SECRET].secret is True
