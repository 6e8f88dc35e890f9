"""Stripe's webhook signature scheme (``Stripe-Signature``), without the SDK.

The header is ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` (more
than one ``v1`` during a secret's rotation). The SDK's verifier is used
when the SDK is installed; this one lets simulation sign its events and the
endpoint verify them in a project that installed no ``stripe`` package.
"""

from __future__ import annotations

import hmac
import time

from patchbay.core.signing import hmac_sha256_hex

SCHEME = "v1"


class SignatureMismatch(ValueError):
    """The header does not sign the body with the secret (the sentence says why)."""


def _text(payload: str | bytes) -> str:
    return payload.decode() if isinstance(payload, bytes) else payload


def signature_header(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header of ``payload``, signed now or at ``timestamp``."""
    signed_at = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac_sha256_hex(secret, f"{signed_at}.{_text(payload)}")
    return f"t={signed_at},{SCHEME}={digest}"


def verify_header(payload: str | bytes, header: str | None, secret: str, tolerance: int) -> None:
    """Return if ``header`` signs ``payload`` with ``secret`` within ``tolerance`` s.

    Raises :class:`SignatureMismatch`, or ``UnicodeDecodeError`` for a body
    that is not UTF-8, as the SDK's ``WebhookSignature.verify_header`` does.
    """
    if not header:
        raise SignatureMismatch("No Stripe-Signature header value was provided.")
    pairs = [item.partition("=")[::2] for item in header.split(",")]
    timestamps = [value for name, value in pairs if name.strip() == "t"]
    try:
        signed_at = int(timestamps[0])
    except (IndexError, ValueError):
        raise SignatureMismatch("Unable to extract timestamp and signatures from header.") from None
    signatures = [value.strip() for name, value in pairs if name.strip() == SCHEME]
    if not signatures:
        raise SignatureMismatch(f"No signatures found with expected scheme {SCHEME}.")
    expected = hmac_sha256_hex(secret, f"{signed_at}.{_text(payload)}")
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise SignatureMismatch("No signatures found matching the expected signature for payload.")
    if tolerance and signed_at < time.time() - tolerance:
        raise SignatureMismatch(f"Timestamp outside the tolerance zone ({signed_at}).")
