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
