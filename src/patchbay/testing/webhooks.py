"""Sign and post webhooks to your endpoints exactly as a provider would.

Each signer returns the header value(s) the provider sends; the ``post_*``
helpers serialize the payload once, sign those exact bytes and post them
with Django's test client, so your endpoint verifies a genuine signature.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from patchbay.core.signing import hmac_sha256_hex

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse

Payload = Mapping[str, Any] | bytes | str


def encode_payload(payload: Payload) -> bytes:
    """The request body: mappings as JSON, strings and bytes (e.g. garbage) as given."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload).encode()


def sign_hmac_sha256(secret: str | bytes, body: str | bytes, *, prefix: str = "sha256=") -> str:
    """The signature header value of ``body``: ``prefix`` + hex HMAC-SHA256 under ``secret``."""
    return prefix + hmac_sha256_hex(secret, body)


def post_signed_webhook(
    client: Client,
    url: str,
    payload: Payload,
    *,
    secret: str | bytes,
    header: str = "X-Signature",
    prefix: str = "sha256=",
    headers: Mapping[str, str] | None = None,
) -> _MonkeyPatchedWSGIResponse:
    """POST ``payload`` to ``url`` signed with HMAC-SHA256 of the raw body in ``header``.

    ``headers`` are sent as well and may override the signature header, to
    test what your endpoint does with a forged or malformed one.
    """
    body = encode_payload(payload)
    return client.post(
        url,
        data=body,
        content_type="application/json",
        headers={header: sign_hmac_sha256(secret, body, prefix=prefix), **(headers or {})},
    )
