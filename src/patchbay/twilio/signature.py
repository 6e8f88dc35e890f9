"""Twilio's webhook signatures (``X-Twilio-Signature``) and the verifiers of deliveries.

Twilio signs the full URL it requested followed by each POST parameter's
name and value, sorted by name, with HMAC-SHA1 under the auth token (or
HMAC-SHA256 under a SharedKey secret), in base64. The verifiers check it
with the SDK's ``RequestValidator`` when the SDK is installed, else with
:func:`validate`, the same scheme, which also lets simulation sign its
status callbacks in a project that installed no ``twilio`` package.

Twilio signs the URL it requested. Behind a proxy that URL is not what
Django sees unless ``PATCHBAY_PUBLIC_URL`` is set (or Django is told to trust
the proxy's headers), the most common cause of refused Twilio webhooks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, QueryDict

from patchbay.conf import conf
from patchbay.core.sdk import sdk_available
from patchbay.exceptions import WebhookVerificationError
from patchbay.webhooks.values import event_key
from patchbay.webhooks.verification import VerifiedDelivery, WebhookVerifier

HMAC_SHA1 = "HMAC_SHA1"
#: What a MessageSid may be (``SMS.external_id``); Twilio's have 34 characters.
SID_LENGTH = 64
HMAC_SHA256 = "HMAC_SHA256"
#: Signs simulated callbacks when no TWILIO_AUTH_TOKEN is configured; public, so it is
#: accepted only while DEBUG is on (see WebhookVerifier.accepts_simulation_secrets).
SIMULATION_AUTH_TOKEN = "patchbay-simulated-twilio-token"  # noqa: S105  # nosec B105  # public
_DIGESTS = {HMAC_SHA1: hashlib.sha1, HMAC_SHA256: hashlib.sha256}


def signature_algorithm(settings_header: str | None) -> str:
    """The algorithm ``X-Twilio-Webhooks-Signature-Settings`` names; HMAC_SHA1 without one."""
    for part in (settings_header or "").split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "algorithm" and value.strip():
            return value.strip()
    return HMAC_SHA1


def _values(params: Mapping[str, str] | object, name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)  # a QueryDict: every value of a repeated name
    if callable(getlist):
        return [str(value) for value in getlist(name)]
    return [str(params[name])]  # type: ignore[index]


def compute_signature(
    token: str, url: str, params: Mapping[str, str], algorithm: str | None = None
) -> str:
    """The ``X-Twilio-Signature`` of a POST of ``params`` to ``url``.

    Raises ``ValueError`` for an algorithm Twilio does not sign with.
    """
    digest = _DIGESTS.get((algorithm or HMAC_SHA1).upper())
    if digest is None:
        raise ValueError(f"Unsupported webhook signature algorithm: {algorithm}")
    signed = url + "".join(
        name + value for name in sorted(set(params)) for value in sorted(set(_values(params, name)))
    )
    mac = hmac.new(token.encode(), signed.encode(), digest)
    return base64.b64encode(mac.digest()).decode()


def _with_and_without_port(url: str) -> list[str]:
    # Twilio signs the URL with or without the default port depending on its side.
    parts = urlsplit(url)
    if parts.port:
        return [url, parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]).geturl()]
    port = 443 if parts.scheme == "https" else 80
    return [url, parts._replace(netloc=f"{parts.netloc}:{port}").geturl()]


def validate(
    token: str,
    url: str,
    params: Mapping[str, str],
    signature: str,
    algorithm: str | None = None,
) -> bool:
    """Whether ``signature`` signs a POST of ``params`` to ``url`` (form-encoded bodies)."""
    if (algorithm or HMAC_SHA1).upper() not in _DIGESTS:
        return False
    return any(
        hmac.compare_digest(compute_signature(token, candidate, params, algorithm), signature)
        for candidate in _with_and_without_port(url)
    )


def public_url(request: HttpRequest) -> str:
    """The URL Twilio requested: ``PATCHBAY_PUBLIC_URL`` + path, else what Django trusts."""
    if conf.PUBLIC_URL:
        return conf.PUBLIC_URL + request.get_full_path()
    return request.build_absolute_uri()


def _validate(
    token: str, url: str, params: QueryDict, signature: str, settings_header: str | None
) -> bool:
    """The SDK's ``RequestValidator`` if installed, else patchbay's own (no SDK needed)."""
    if sdk_available("twilio"):
        from twilio.request_validator import RequestValidator, get_signature_algorithm

        algorithm = get_signature_algorithm(settings_header)
        return bool(RequestValidator(token).validate(url, params, signature, algorithm))
    return validate(token, url, params, signature, signature_algorithm(settings_header))


class TwilioWebhookVerifier(WebhookVerifier):
    """Verifies a form-encoded Twilio webhook, signed for the URL Twilio requested.

    ``auth_token`` checks HMAC-SHA1 signatures; ``signing_key`` (a SharedKey
    secret) the HMAC-SHA256 ones of deliveries that announce it in
    ``X-Twilio-Webhooks-Signature-Settings`` (the auth token when it is
    unset). Without an auth token it checks :data:`SIMULATION_AUTH_TOKEN`
    while simulation secrets are accepted. Subclasses say which event a
    verified payload is.
    """

    simulation_secrets = (SIMULATION_AUTH_TOKEN,)

    def __init__(self, auth_token: str | None, *, signing_key: str | None = None) -> None:
        self._auth_token = next(iter(self.secrets_in_force(auth_token)), None)
        self._signing_key = next(iter(self.secrets_in_force(signing_key, fallback=False)), None)

    def token_for(self, signed_with_shared_key: bool) -> str | None:
        """The secret a delivery is checked with: the SharedKey for HMAC-SHA256, else the token."""
        if signed_with_shared_key and self._signing_key:
            return self._signing_key
        return self._auth_token

    @property
    def signing_secret(self) -> str | None:
        return self._auth_token  # simulation signs with HMAC-SHA1

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            raise WebhookVerificationError("Missing X-Twilio-Signature header.")
        settings_header = request.headers.get("X-Twilio-Webhooks-Signature-Settings")
        token = self.token_for(bool(settings_header))
        if not token:
            raise WebhookVerificationError(
                "TWILIO_AUTH_TOKEN is not configured.", error_code="not_configured"
            )
        params = QueryDict(body.decode("utf-8"))
        if not _validate(token, public_url(request), params, signature, settings_header):
            raise WebhookVerificationError("Invalid Twilio signature for this URL.")
        return self.delivery({key: params.get(key) for key in params})

    def delivery(self, payload: dict[str, Any]) -> VerifiedDelivery:
        """The event of a verified ``payload`` (the form's fields)."""
        raise NotImplementedError


class StatusCallbackVerifier(TwilioWebhookVerifier):
    """Status callbacks: one event per message and status (``message.status``)."""

    def delivery(self, payload: dict[str, Any]) -> VerifiedDelivery:
        sid, status = payload.get("MessageSid"), payload.get("MessageStatus")
        if not sid or not status:
            raise WebhookVerificationError(
                "MessageSid and MessageStatus are required.", error_code="invalid_payload"
            )
        event_key(sid, "MessageSid", max_length=SID_LENGTH)
        event_key(status, "MessageStatus")
        return VerifiedDelivery(f"{sid}:{status}", "message.status", payload)


class InboundMessageVerifier(TwilioWebhookVerifier):
    """Inbound messages (``message.received``), one event per message."""

    def delivery(self, payload: dict[str, Any]) -> VerifiedDelivery:
        sid = payload.get("MessageSid") or payload.get("SmsSid")
        if not sid or not payload.get("From"):
            raise WebhookVerificationError(
                "MessageSid and From are required.", error_code="invalid_payload"
            )
        return VerifiedDelivery(
            event_key(sid, "MessageSid", max_length=SID_LENGTH), "message.received", payload
        )
