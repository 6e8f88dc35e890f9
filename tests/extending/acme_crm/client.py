"""The Acme CRM client: contacts over its REST API, with each user's OAuth2 token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from patchbay.core.auth import OAuth2Auth
from patchbay.core.client import BaseClient
from patchbay.core.request import Request
from patchbay.core.simulation import fake_id
from patchbay.error_codes import ErrorCode
from patchbay.exceptions import ServiceError
from patchbay.results import Failure, Success

API_URL = "https://api.acme-crm.example/v2"

# Statuses with their own error code; other 4xx are "invalid_request", 5xx "api_error".
_ERROR_CODES = {
    401: ErrorCode.AUTHENTICATION_ERROR,
    403: ErrorCode.PERMISSION_ERROR,  # a scope the user did not grant
    409: ErrorCode.CONFLICT,
    429: ErrorCode.RATE_LIMITED,
}


class AcmeCrmClient(BaseClient):
    """Adds contacts to the Acme CRM account of the user the client is made for."""

    provider = "acme_crm"
    display_name = "Acme CRM"
    # The client id and secret come from ACME_CRM_OAUTH2_CLIENT_ID and
    # ACME_CRM_OAUTH2_CLIENT_SECRET (or the admin); the URLs and scopes below are
    # defaults that ACME_CRM_OAUTH2_AUTHORIZE_URL, ..._TOKEN_URL, ..._REVOCATION_URL
    # and ..._SCOPES override. Every request made with self.http() carries the
    # user's access token, refreshed when it is about to expire.
    authentication = OAuth2Auth(
        authorize_url="https://login.acme-crm.example/oauth2/authorize",
        token_url="https://login.acme-crm.example/oauth2/token",
        revocation_url="https://login.acme-crm.example/oauth2/revoke",
        scopes=("contacts.write", "offline_access"),
        per_user=True,
    )

    def add_contact(self, email: str, name: str = "") -> ContactResult:
        """Add a contact to the user's CRM; the result has ``contact_id``."""
        return self.perform(AddContact.build, email, name)

    def translate_exception(self, exc: Exception) -> ServiceError:
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            return _http_error(exc.response)
        return super().translate_exception(exc)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http(method, API_URL + path, **kwargs)
        response.raise_for_status()
        return response.json()


class ContactAdded(Success):
    """A contact Acme CRM stored."""

    contact_id: str


ContactResult = ContactAdded | Failure


class AddContact(Request[ContactAdded]):
    """One contact to add, checked before anything is sent."""

    operation = "add_contact"

    def __init__(self, email: str, name: str) -> None:
        self.email, self.name = email, name

    @classmethod
    def build(cls, email: str, name: str = "") -> AddContact:
        if "@" not in email:
            raise ServiceError("A contact needs an email address.", error_code="invalid_request")
        return cls(email, name)

    def params(self) -> Mapping[str, Any]:
        return {"email": self.email, "name": self.name}

    def send(self, client: AcmeCrmClient) -> ContactAdded:
        contact = client._request("POST", "/contacts", json=self.params())
        return {"success": True, "contact_id": contact["id"]}

    def simulate(self, client: AcmeCrmClient) -> ContactAdded:
        return {"success": True, "contact_id": fake_id("ct_")}


def _http_error(response: requests.Response) -> ServiceError:
    status = response.status_code
    try:
        detail = response.json()["message"]
    except (ValueError, KeyError, TypeError):
        detail = response.reason
    return ServiceError(
        f"Acme CRM refused the request (HTTP {status}): {detail}",
        error_code=_ERROR_CODES.get(status, "api_error" if status >= 500 else "invalid_request"),
        retryable=status == 429 or status >= 500,
        status=status,
    )
