"""The Acme Notify client: push notifications over its REST API, with ``requests``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from patchbay.core.auth import BearerAuth
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.core.request import Request
from patchbay.core.simulation import fake_id
from patchbay.exceptions import ServiceError
from patchbay.results import Failure, Success

API_URL = "https://api.acme-notify.example/v1"

# Statuses with their own error code; other 4xx are "invalid_request", 5xx "server_error".
_ERROR_CODES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found",
    429: "rate_limited",
}


class AcmeNotifyClient(BaseClient):
    """Sends push notifications through Acme Notify."""

    provider = "acme_notify"
    display_name = "Acme Notify"
    config_fields = {
        "api_key": ConfigField(setting="ACME_NOTIFY_API_KEY", secret=True),
        "webhook_secret": ConfigField(
            setting="ACME_NOTIFY_WEBHOOK_SECRET", secret=True, required=False
        ),
    }
    webhook_secret_field = "webhook_secret"
    # Every request made with self.http() carries "Authorization: Bearer <api_key>".
    authentication = BearerAuth("api_key")

    def __init__(
        self,
        api_key: str | None = None,
        webhook_secret: str | None = None,
        debug_mode: bool | None = None,
    ) -> None:
        super().__init__(debug_mode, api_key=api_key, webhook_secret=webhook_secret)

    def send_notification(self, device_token: str, message: str) -> NotificationResult:
        """Push ``message`` to a device; the result has ``notification_id`` and ``status``."""
        return self.perform(SendNotification.build, device_token, message)

    def probe(self) -> Mapping[str, Any]:
        """The cheapest authenticated call: who the API key belongs to."""
        self._request("GET", "/account")
        return {"healthy": True}

    def translate_exception(self, exc: Exception) -> ServiceError:
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            return _http_error(exc.response)
        # Timeouts and connection errors, requests' included, are the base class's.
        return super().translate_exception(exc)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http(method, API_URL + path, **kwargs)
        response.raise_for_status()
        return response.json()


class NotificationSent(Success):
    """A notification Acme Notify accepted."""

    notification_id: str
    status: str


NotificationResult = NotificationSent | Failure


class SendNotification(Request[NotificationSent]):
    """One notification to push, checked before anything is sent."""

    operation = "send_notification"

    def __init__(self, device_token: str, message: str) -> None:
        self.device_token, self.message = device_token, message

    @classmethod
    def build(cls, device_token: str, message: str) -> SendNotification:
        if not message:
            raise ServiceError("A notification needs a message.", error_code="invalid_request")
        return cls(device_token, message)

    def params(self) -> Mapping[str, Any]:
        return {"to": self.device_token, "message": self.message}

    def send(self, client: AcmeNotifyClient) -> NotificationSent:
        notification = client._request("POST", "/notifications", json=self.params())
        return {
            "success": True,
            "notification_id": notification["id"],
            "status": notification["status"],
        }

    def simulate(self, client: AcmeNotifyClient) -> NotificationSent:
        return {"success": True, "notification_id": fake_id("ntf_"), "status": "queued"}


def _http_error(response: requests.Response) -> ServiceError:
    status = response.status_code
    try:
        body = response.json()
        detail = body["error"]["message"]
    except (ValueError, KeyError, TypeError):
        body, detail = None, response.reason
    return ServiceError(
        f"Acme Notify refused the request (HTTP {status}): {detail}",
        error_code=_ERROR_CODES.get(status, "server_error" if status >= 500 else "invalid_request"),
        retryable=status == 429 or status >= 500,
        status=status,
        response=body,
    )
