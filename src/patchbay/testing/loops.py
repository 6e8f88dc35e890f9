"""Build, sign and post Loops webhook events exactly as Loops does (Standard Webhooks).

Loops signs ``<webhook-id>.<webhook-timestamp>.<body>`` with HMAC-SHA256
under the base64 key of the endpoint's ``whsec_…`` secret and sends three
headers: ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
(``v1,<base64>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from patchbay.core.signing import standard_webhook_headers
from patchbay.core.urls import patchbay_path
from patchbay.testing.webhooks import Payload, encode_payload

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse


def loops_event(
    event_name: str, email: str, /, *, transactional_id: str = "", **fields: Any
) -> dict[str, Any]:
    """A Loops webhook payload (schema ``1.0.0``) for ``event_name`` about ``email``.

    ``eventName``, ``eventTime`` (now), ``webhookSchemaVersion``,
    ``contactIdentity`` (``id``, ``email``, ``userId``) and ``email``
    (``id``, ``emailMessageId``, ``subject``), with fresh ids;
    ``transactional_id`` adds ``sourceType: "transactional"`` and
    ``transactionalId``. ``fields`` are Loops' own keys and replace the
    defaults; a dict is merged into the default dict of the same key, so
    ``email={"subject": "Welcome"}`` keeps the generated ids (``event_name``
    and ``email`` are positional, so Loops' ``email`` key is free).
    """
    from patchbay.loops.simulation import event_payload

    payload = event_payload(event_name, email, transactional_id)
    for key, value in fields.items():
        default = payload.get(key)
        if isinstance(default, dict) and isinstance(value, Mapping):
            payload[key] = {**default, **value}
        else:
            payload[key] = value
    return payload


def sign_loops_webhook(
    body: str | bytes,
    *,
    secret: str | None = None,
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three Standard Webhooks headers Loops sends with ``body``.

    ``secret`` defaults to the configured ``LOOPS_WEBHOOK_SECRET`` (admin or
    settings), else the simulation secret, which patchbay accepts only while
    simulating with ``DEBUG`` on or in a test run;
    ``message_id`` to a fresh ``msg_…`` (reuse one to test a redelivery);
    ``timestamp`` to now (an old one tests the replay window).
    """
    from patchbay.loops.webhooks import SIMULATION_SECRET, webhook_secret

    key = secret or webhook_secret() or SIMULATION_SECRET
    raw = body.encode() if isinstance(body, str) else body
    return standard_webhook_headers(key, raw, message_id=message_id, timestamp=timestamp)


def post_loops_event(
    client: Client,
    payload: Payload,
    *,
    secret: str | None = None,
    message_id: str | None = None,
    timestamp: int | None = None,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> _MonkeyPatchedWSGIResponse:
    """POST ``payload`` to ``patchbay:loops-webhook`` (or ``url``), signed.

    ``secret``, ``message_id`` and ``timestamp`` as for
    :func:`sign_loops_webhook`; ``headers`` are sent too and may override
    the signature headers, to test refusals.
    """
    body = encode_payload(payload)
    signed = sign_loops_webhook(body, secret=secret, message_id=message_id, timestamp=timestamp)
    return client.post(
        url or patchbay_path("patchbay:loops-webhook"),
        data=body,
        content_type="application/json",
        headers={**signed, **(headers or {})},
    )
