"""Generic HMAC-SHA256 signing for providers that sign with a shared secret."""

from __future__ import annotations

import hashlib
import hmac


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def hmac_sha256_hex(secret: str | bytes, message: str | bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` under ``secret``."""
    return hmac.new(_as_bytes(secret), _as_bytes(message), hashlib.sha256).hexdigest()


def verify_hmac_sha256(
    secret: str | bytes, message: str | bytes, signature: str | None, *, prefix: str = ""
) -> bool:
    """Whether ``signature`` (optionally ``prefix``-ed, e.g. ``sha256=``) signs ``message``.

    The comparison takes constant time so response timing leaks nothing about
    the expected signature.
    """
    if not secret or not signature or not signature.startswith(prefix):
        return False
    expected = hmac_sha256_hex(secret, message)
    return hmac.compare_digest(expected.encode(), signature[len(prefix) :].strip().encode())


def _standard_webhook_key(secret: str) -> bytes:
    import base64
    import binascii

    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("The webhook secret is not a whsec_ base64 secret.") from exc


def sign_standard_webhook(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) of the Standard Webhooks scheme."""
    import base64

    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_standard_webhook(
    secret: str,
    message_id: str,
    timestamp: str,
    body: bytes,
    signatures: str,
    *,
    tolerance: int,
    now: float | None = None,
) -> str | None:
    """Check a Standard Webhooks signature; None when valid, else why not (a sentence).

    ``signatures`` is the ``webhook-signature`` header: space-separated
    ``v1,<base64>`` entries, any of which may match (key rotation). The
    timestamp must be within ``tolerance`` seconds of now, against replays.
    """
    import time

    if not (message_id and timestamp and signatures):
        return "Missing webhook-id, webhook-timestamp or webhook-signature header."
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "The webhook-timestamp header is not a Unix time."
    if abs((now if now is not None else time.time()) - sent_at) > tolerance:
        return "The webhook timestamp is outside the tolerance window."
    try:
        expected = sign_standard_webhook(secret, message_id, sent_at, body).encode()
    except ValueError as exc:
        return str(exc)
    for candidate in signatures.split():
        if hmac.compare_digest(candidate.encode(), expected):
            return None
    return "The webhook signature does not match."


def standard_webhook_headers(
    secret: str, body: bytes, *, message_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers for ``body``.

    ``message_id`` defaults to a fresh ``msg_…`` and ``timestamp`` to now.
    """
    import time
    import uuid

    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    sent_at = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": sign_standard_webhook(secret, message_id, sent_at, body),
    }
