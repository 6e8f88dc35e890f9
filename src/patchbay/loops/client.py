"""``LoopsClient``: the Loops REST API over ``requests``, with idempotent sends."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from patchbay.conf import conf
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.core.simulation import console, fake_id
from patchbay.exceptions import ServiceError
from patchbay.loops import http
from patchbay.results import Result


def check_email(address: object) -> str:
    """``address`` if it is a valid email address, else a ``ServiceError`` ``invalid_email``."""
    text = str(address or "").strip()
    try:
        validate_email(text)
    except ValidationError:
        raise ServiceError(
            f"{text[:80]!r} is not a valid email address.", error_code="invalid_email"
        ) from None
    return text


class LoopsClient(BaseClient):
    """Transactional emails, events, contacts and API-key checks."""

    provider = "loops"
    display_name = "Loops"
    sdk_module = "requests"
    extra = "loops"
    enabled_setting = "LOOPS_ENABLED"
    webhook_secret_field = "webhook_secret"  # noqa: S105 (a field name, not a secret)
    webhook_url_names = ("loops-webhook",)
    config_fields = {
        "api_key": ConfigField(setting="LOOPS_API_KEY", secret=True),
        "webhook_secret": ConfigField(setting="LOOPS_WEBHOOK_SECRET", secret=True, required=False),
        "api_base": ConfigField(setting="LOOPS_API_BASE", required=False),
    }

    def __init__(self, api_key: str | None = None, debug_mode: bool | None = None) -> None:
        super().__init__(debug_mode=debug_mode, api_key=api_key)

    # -- the spec's methods -------------------------------------------------------------

    def transactional_email(
        self,
        to_email: str,
        transactional_id: str,
        data_variables: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Result:
        """Send the transactional template ``transactional_id`` to ``to_email``.

        kwargs: ``idempotency_key`` (generated when not given; a replay of the
        same key is reported as sent, ``duplicate: True``), ``add_to_audience``,
        ``attachments`` (``[{"filename", "contentType", "data"}]``), ``bcc`` (an
        address or a list: Loops has no BCC, so each gets its own copy, with its
        own idempotency key), and any other API field, passed through as given.
        Result keys: ``data`` (Loops' answer), ``idempotency_key``, ``duplicate``,
        and ``bcc`` (one result per copy) when asked for.
        """
        key = str(kwargs.pop("idempotency_key", None) or uuid.uuid4())
        bcc = kwargs.pop("bcc", None) or []
        bcc = [bcc] if isinstance(bcc, str) else list(bcc)
        payload: dict[str, Any] = {"transactionalId": transactional_id, "email": to_email}
        if data_variables:
            payload["dataVariables"] = dict(data_variables)
        if "add_to_audience" in kwargs:
            payload["addToAudience"] = bool(kwargs.pop("add_to_audience"))
        if kwargs.get("attachments"):
            payload["attachments"] = list(kwargs.pop("attachments"))
        payload.update({name: value for name, value in kwargs.items() if value is not None})

        def validate() -> None:
            payload["email"] = check_email(to_email)
            for copy in bcc:
                check_email(copy)
            if not transactional_id:
                raise ServiceError("No transactional email id given.", error_code="invalid_request")

        result = self._send("transactional_email", "/transactional", payload, key, validate)
        if bcc and result["success"]:
            result["bcc"] = [
                self.transactional_email(
                    copy,
                    transactional_id,
                    data_variables,
                    idempotency_key=f"{key}:bcc:{copy}"[:100],
                )
                for copy in bcc
            ]
        return result

    def event(
        self,
        to_email: str,
        event_name: str,
        event_properties: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Result:
        """Send ``event_name`` for the contact ``to_email`` (triggers workflows).

        kwargs: ``idempotency_key`` (generated when not given) and other API
        fields such as ``mailingLists``.
        """
        key = str(kwargs.pop("idempotency_key", None) or uuid.uuid4())
        payload: dict[str, Any] = {"email": to_email, "eventName": event_name, **kwargs}
        if event_properties:
            payload["eventProperties"] = dict(event_properties)

        def validate() -> None:
            payload["email"] = check_email(to_email)
            if not event_name:
                raise ServiceError("No event name given.", error_code="invalid_request")

        return self._send("event", "/events/send", payload, key, validate)

    def test_api_key(self) -> Result:
        """Whether the API key is valid: ``valid`` and ``team_name``."""

        def live() -> dict[str, Any]:
            body = self._request("GET", "/api-key")
            return {"valid": True, "team_name": body.get("teamName")}

        return self.call(
            "test_api_key", live, simulate=lambda: {"valid": True, "team_name": "Simulated team"}
        )

    # -- contacts -----------------------------------------------------------------------

    def create_contact(self, email: str, **properties: Any) -> Result:
        """Create a contact; ``contact_id`` is Loops' id. Properties in Loops' names."""
        return self._contact_call("create_contact", "POST", "/contacts/create", email, properties)

    def update_contact(self, email: str, **properties: Any) -> Result:
        """Update (or create) a contact by email."""
        return self._contact_call("update_contact", "PUT", "/contacts/update", email, properties)

    def delete_contact(self, email: str) -> Result:
        return self._contact_call("delete_contact", "POST", "/contacts/delete", email, {})

    def find_contact(self, email: str) -> Result:
        """``contact``: the contact with this email, or None."""
        address: dict[str, str] = {}

        def live() -> dict[str, Any]:
            found = self._request("GET", "/contacts/find", params={"email": address["email"]})
            contacts = found if isinstance(found, list) else []
            return {"contact": contacts[0] if contacts else None}

        def validate() -> None:
            address["email"] = check_email(email)

        return self.call(
            "find_contact",
            live,
            validate=validate,
            params={"email": email},
            simulate=lambda: {"contact": None},
        )

    # -- plumbing -----------------------------------------------------------------------

    def _send(
        self, operation: str, path: str, payload: dict[str, Any], key: str, validate: Any
    ) -> Result:
        def live() -> dict[str, Any]:
            try:
                body = self._request("POST", path, json=payload, idempotency_key=key)
            except ServiceError as exc:
                if exc.status == 409:  # this key was used: the first attempt went through
                    return {"data": exc.response, "idempotency_key": key, "duplicate": True}
                raise
            return {"data": body, "idempotency_key": key, "duplicate": False}

        def simulate() -> dict[str, Any]:
            # The simulated outbox, for the developer's eyes: links and codes stay in,
            # known secrets (the API key...) are scrubbed.
            console.info(
                "[patchbay simulated email] %s %s",
                operation,
                self.redactor.text(str(payload), limit=None),
            )
            return {"data": {"success": True}, "idempotency_key": key, "duplicate": False}

        return self.call(
            operation,
            live,
            simulate=simulate,
            validate=validate,
            params={
                key_: value
                for key_, value in payload.items()
                if key_ not in {"dataVariables", "attachments", "eventProperties"}
            },
            private={"payload": payload},
        )

    def _contact_call(
        self, operation: str, method: str, path: str, email: str, properties: Mapping[str, Any]
    ) -> Result:
        payload: dict[str, Any] = {"email": email, **properties}

        def validate() -> None:
            payload["email"] = check_email(email)

        def live() -> dict[str, Any]:
            body = self._request(method, path, json=payload)
            return {"contact_id": body.get("id") if isinstance(body, dict) else None}

        return self.call(
            operation,
            live,
            validate=validate,
            params={"email": email},
            private={"payload": payload},
            simulate=lambda: {"contact_id": fake_id("cnt_")},
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {
            "Authorization": f"Bearer {self.config['api_key']}",
            "Accept": "application/json",
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        base = str(self.config["api_base"]).rstrip("/")
        response = http.session(conf.MAX_RETRIES, conf.LOOPS_RETRY_BACKOFF).request(
            method, base + path, json=json, params=params, headers=headers, timeout=conf.TIMEOUT
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.ok or (isinstance(body, dict) and body.get("success") is False):
            raise http.api_error(response.status_code, body)
        return body

    def probe(self) -> Mapping[str, Any]:
        self._request("GET", "/api-key")
        return {"healthy": True}

    def translate_exception(self, exc: Exception) -> ServiceError:
        import requests

        if isinstance(exc, requests.exceptions.RetryError):  # retries spent on 429/5xx
            return ServiceError(
                "Loops kept failing after retries.", error_code="api_error", retryable=True
            )
        return super().translate_exception(exc)
