"""Demo CRM: a fictional CRM whose API takes OAuth2 tokens, one connection per user.

There is no Demo CRM to call: the demo runs in simulation, where connecting goes
through patchbay's simulated consent page and token endpoint, and calls answer
offline. Live (simulation off), it is a client like any other: give it a client id
(``DEMO_CRM_OAUTH2_CLIENT_ID``) and real URLs, and ``list_contacts`` sends the
user's access token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from patchbay.core.auth import OAuth2Auth
from patchbay.core.client import BaseClient
from patchbay.core.request import Request
from patchbay.exceptions import ServiceError
from patchbay.results import Failure, Success

API_URL = "https://api.demo-crm.example/v1"
# What the simulated API answers.
SIMULATED_CONTACTS = [
    {"name": "Ada Lovelace", "email": "ada@example.com"},
    {"name": "Grace Hopper", "email": "grace@example.com"},
]


class DemoCrmClient(BaseClient):
    """Reads the contacts of the Demo CRM account the client's user connected."""

    provider = "demo_crm"
    display_name = "Demo CRM"
    authentication = OAuth2Auth(
        authorize_url="https://login.demo-crm.example/oauth2/authorize",
        token_url="https://login.demo-crm.example/oauth2/token",
        revocation_url="https://login.demo-crm.example/oauth2/revoke",
        scopes=("contacts.read", "offline_access"),
        per_user=True,
    )

    def list_contacts(self) -> ContactsResult:
        """The user's contacts: the result has ``contacts``, each a ``name`` and an ``email``."""
        return self.call(ListContacts())

    def translate_exception(self, exc: Exception) -> ServiceError:
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            return ServiceError(
                f"Demo CRM answered HTTP {status}.",
                error_code="authentication_error" if status == 401 else "api_error",
                retryable=status >= 500,
                status=status,
            )
        return super().translate_exception(exc)


class Contacts(Success):
    contacts: list[dict[str, str]]


ContactsResult = Contacts | Failure


class ListContacts(Request[Contacts]):
    operation = "list_contacts"

    def params(self) -> Mapping[str, Any]:
        return {}

    def send(self, client: DemoCrmClient) -> Contacts:
        # BaseClient.http adds the user's access token, refreshed first if it is expiring.
        response = client.http("GET", f"{API_URL}/contacts")
        response.raise_for_status()
        return {"success": True, "contacts": response.json()["contacts"]}

    def simulate(self, client: DemoCrmClient) -> Contacts:
        # Nothing is sent; without a connection the client fails first, as live.
        return {"success": True, "contacts": SIMULATED_CONTACTS}
