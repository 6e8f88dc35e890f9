"""``LoopsClient``: the Loops REST API over ``requests``, with idempotent sends."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover - typing_extensions comes with Django (asgiref) on 3.10
    from typing_extensions import Self

from patchbay.conf import conf
from patchbay.core.arguments import json_value, mapping, text
from patchbay.core.client import BaseClient
from patchbay.core.request import Request
from patchbay.core.simulation import console, fake_id
from patchbay.exceptions import ServiceError
from patchbay.loops import http
from patchbay.loops.results import (
    ApiKeyResult,
    ApiKeySuccess,
    ContactResult,
    ContactSuccess,
    EmailResult,
    EmailSuccess,
    FoundContactResult,
    FoundContactSuccess,
)
from patchbay.loops.service import SERVICE
from patchbay.tenancy import UNSET


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

    declaration = SERVICE

    def __init__(
        self,
        api_key: str | None = None,
        debug_mode: bool | None = None,
        *,
        tenant: object = UNSET,
    ) -> None:
        super().__init__(debug_mode=debug_mode, tenant=tenant, api_key=api_key)

    # -- the spec's methods -------------------------------------------------------------

    def transactional_email(
        self,
        to_email: str,
        transactional_id: str,
        data_variables: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> EmailResult:
        """Send the transactional template ``transactional_id`` to ``to_email``.

        kwargs: ``idempotency_key`` (generated when not given; a replay of the
        same key is reported as sent, ``duplicate: True``), ``add_to_audience``,
        ``attachments`` (``[{"filename", "contentType", "data"}]``), ``bcc`` (an
        address or a list: Loops has no BCC, so each gets its own copy, with its
        own idempotency key), and any other API field, passed through as given.
        Result keys: ``data`` (Loops' answer), ``idempotency_key``, ``duplicate``,
        and ``bcc`` (one result per copy) when asked for.
        """
        bcc = _copies(kwargs.pop("bcc", None))
        result = self.perform(
            SendTransactionalEmail.build, to_email, transactional_id, data_variables, bcc, kwargs
        )
        if bcc and result["success"]:
            result["bcc"] = [
                self.transactional_email(
                    copy,
                    transactional_id,
                    data_variables,
                    idempotency_key=f"{result['idempotency_key']}:bcc:{copy}"[:100],
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
    ) -> EmailResult:
        """Send ``event_name`` for the contact ``to_email`` (triggers workflows).

        kwargs: ``idempotency_key`` (generated when not given) and other API
        fields such as ``mailingLists``.
        """
        return self.perform(SendEvent.build, to_email, event_name, event_properties, kwargs)

    def test_api_key(self) -> ApiKeyResult:
        """Whether the API key is valid: ``valid`` and ``team_name``."""
        return self.call(CheckApiKey())

    # -- contacts -----------------------------------------------------------------------

    def create_contact(self, email: str, **properties: Any) -> ContactResult:
        """Create a contact; ``contact_id`` is Loops' id. Properties in Loops' names."""
        return self.perform(CreateContact.build, email, properties)

    def update_contact(self, email: str, **properties: Any) -> ContactResult:
        """Update (or create) a contact by email."""
        return self.perform(UpdateContact.build, email, properties)

    def delete_contact(self, email: str) -> ContactResult:
        return self.perform(DeleteContact.build, email, {})

    def find_contact(self, email: str) -> FoundContactResult:
        """``contact``: the contact with this email, or None."""
        return self.perform(FindContact.build, email)

    # -- plumbing -----------------------------------------------------------------------

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
            raise http.api_error(response.status_code, body, response.headers)
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


# -- the requests of the operations above --------------------------------------------------


class SendEmail(Request[EmailSuccess]):
    """A POST that sends something (an email, an event), once per idempotency key."""

    path = ""

    def __init__(self, payload: dict[str, Any], idempotency_key: str) -> None:
        self.payload, self.idempotency_key = payload, idempotency_key

    def params(self) -> Mapping[str, Any]:
        return {
            key: value
            for key, value in self.payload.items()
            if key not in {"dataVariables", "attachments", "eventProperties"}
        }

    def private(self) -> Mapping[str, Any]:
        return {"payload": self.payload}

    def send(self, client: LoopsClient) -> EmailSuccess:
        key = self.idempotency_key
        try:
            body = client._request("POST", self.path, json=self.payload, idempotency_key=key)
        except ServiceError as exc:
            if exc.status == 409:  # this key was used: the first attempt went through
                return {
                    "success": True,
                    "data": exc.response,
                    "idempotency_key": key,
                    "duplicate": True,
                }
            raise
        return {"success": True, "data": body, "idempotency_key": key, "duplicate": False}

    def simulate(self, client: LoopsClient) -> EmailSuccess:
        # The simulated outbox, for the developer's eyes: links and codes stay in,
        # known secrets (the API key...) are scrubbed.
        console.info(
            "[patchbay simulated email] %s %s",
            self.operation,
            client.redactor.text(str(self.payload), limit=None),
        )
        return {
            "success": True,
            "data": {"success": True},
            "idempotency_key": self.idempotency_key,
            "duplicate": False,
        }


def _copies(bcc: object) -> list[Any]:
    """``bcc`` as a list of addresses, each checked by the request (a non-address fails)."""
    if not bcc:
        return []
    if isinstance(bcc, (list, tuple, set, frozenset)):
        return list(bcc)
    return [bcc]


def _idempotency_key(fields: dict[str, Any]) -> str:
    key = fields.pop("idempotency_key", None)
    return text(key, "idempotency_key", max_length=100) if key else str(uuid.uuid4())


def _api_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The API fields passed through as given, if they are JSON."""
    return {name: json_value(value, name) for name, value in fields.items() if value is not None}


class SendTransactionalEmail(SendEmail):
    operation = "transactional_email"
    path = "/transactional"

    @classmethod
    def build(
        cls,
        to_email: str,
        transactional_id: str,
        data_variables: Mapping[str, Any] | None,
        bcc: list[str],
        fields: Mapping[str, Any],
    ) -> SendTransactionalEmail:
        """``fields``: the method's kwargs, ``bcc`` taken out; the API's own are passed through."""
        fields = dict(fields)
        key = _idempotency_key(fields)
        payload: dict[str, Any] = {"email": check_email(to_email)}
        for copy in bcc:
            check_email(copy)
        if not transactional_id:
            raise ServiceError("No transactional email id given.", error_code="invalid_request")
        payload["transactionalId"] = text(transactional_id, "transactional_id", max_length=255)
        variables = json_value(mapping(data_variables, "data_variables"), "data_variables")
        if variables:
            payload["dataVariables"] = variables
        if "add_to_audience" in fields:
            payload["addToAudience"] = bool(fields.pop("add_to_audience"))
        attachments = fields.pop("attachments", None)
        if attachments:
            if not isinstance(attachments, (list, tuple)):
                raise ServiceError(
                    "attachments must be a list of {filename, contentType, data}.",
                    error_code="invalid_request",
                )
            payload["attachments"] = json_value(attachments, "attachments")
        payload.update(_api_fields(fields))
        return cls(payload, key)


class SendEvent(SendEmail):
    operation = "event"
    path = "/events/send"

    @classmethod
    def build(
        cls,
        to_email: str,
        event_name: str,
        event_properties: Mapping[str, Any] | None,
        fields: Mapping[str, Any],
    ) -> SendEvent:
        """``fields``: the method's kwargs, passed through as API fields."""
        fields = dict(fields)
        key = _idempotency_key(fields)
        payload: dict[str, Any] = {"email": check_email(to_email)}
        if not event_name:
            raise ServiceError("No event name given.", error_code="invalid_request")
        payload["eventName"] = text(event_name, "event_name", max_length=255)
        payload.update(_api_fields(fields))
        properties = json_value(mapping(event_properties, "event_properties"), "event_properties")
        if properties:
            payload["eventProperties"] = properties
        return cls(payload, key)


class CheckApiKey(Request[ApiKeySuccess]):
    operation = "test_api_key"

    def send(self, client: LoopsClient) -> ApiKeySuccess:
        body = client._request("GET", "/api-key")
        return {"success": True, "valid": True, "team_name": body.get("teamName")}

    def simulate(self, client: LoopsClient) -> ApiKeySuccess:
        return {"success": True, "valid": True, "team_name": "Simulated team"}


class ContactRequest(Request[ContactSuccess]):
    """A contact to create, update or delete, by its (checked) email."""

    method = "POST"
    path = ""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    @classmethod
    def build(cls, email: str, properties: Mapping[str, Any]) -> Self:
        return cls({**_api_fields(properties), "email": check_email(email)})

    def params(self) -> Mapping[str, Any]:
        return {"email": self.payload["email"]}

    def private(self) -> Mapping[str, Any]:
        return {"payload": self.payload}

    def send(self, client: LoopsClient) -> ContactSuccess:
        body = client._request(self.method, self.path, json=self.payload)
        return {"success": True, "contact_id": body.get("id") if isinstance(body, dict) else None}

    def simulate(self, client: LoopsClient) -> ContactSuccess:
        return {"success": True, "contact_id": fake_id("cnt_")}


class CreateContact(ContactRequest):
    operation, method, path = "create_contact", "POST", "/contacts/create"


class UpdateContact(ContactRequest):
    operation, method, path = "update_contact", "PUT", "/contacts/update"


class DeleteContact(ContactRequest):
    operation, method, path = "delete_contact", "POST", "/contacts/delete"


class FindContact(Request[FoundContactSuccess]):
    operation = "find_contact"

    def __init__(self, email: str) -> None:
        self.email = email

    @classmethod
    def build(cls, email: str) -> FindContact:
        return cls(check_email(email))

    def params(self) -> Mapping[str, Any]:
        return {"email": self.email}

    def send(self, client: LoopsClient) -> FoundContactSuccess:
        found = client._request("GET", "/contacts/find", params={"email": self.email})
        contacts = found if isinstance(found, list) else []
        return {"success": True, "contact": contacts[0] if contacts else None}

    def simulate(self, client: LoopsClient) -> FoundContactSuccess:
        return {"success": True, "contact": None}
