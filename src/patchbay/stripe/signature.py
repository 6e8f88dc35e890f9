"""Stripe's webhook signatures (``Stripe-Signature``) and the verifier of deliveries.

The header is ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` (more
than one ``v1`` during a secret's rotation). :class:`StripeWebhookVerifier`
checks it with the SDK's verifier when the SDK is installed, else with
:func:`verify_header`, the same scheme, which also lets simulation sign its
events in a project that installed no ``stripe`` package. The endpoint and
:meth:`StripeClient.verify_webhook_signature
<patchbay.stripe.client.StripeClient.verify_webhook_signature>` both verify
with it, so they refuse a delivery for the same reason.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from patchbay.conf import conf
from patchbay.core.sdk import sdk_available
from patchbay.core.signing import hmac_sha256_hex
from patchbay.exceptions import WebhookVerificationError
from patchbay.redaction import Redactor
from patchbay.webhooks.values import event_key
from patchbay.webhooks.verification import VerifiedDelivery, WebhookVerifier

if TYPE_CHECKING:
    from django.http import HttpRequest

SCHEME = "v1"
HEADER = "Stripe-Signature"
#: Signs simulated events when no STRIPE_WEBHOOK_SECRET is configured; public, so it is
#: accepted only while DEBUG is on (see WebhookVerifier.accepts_simulation_secrets).
SIMULATION_SECRET = "whsec_patchbay_simulation"  # noqa: S105  # nosec B105  # public


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


def _header_verifier() -> tuple[Callable[..., Any], type[Exception]]:
    """The SDK's ``verify_header`` and its exception, else patchbay's own (no SDK needed)."""
    if sdk_available("stripe"):
        import stripe

        return stripe.WebhookSignature.verify_header, stripe.SignatureVerificationError
    return verify_header, SignatureMismatch


class StripeWebhookVerifier(WebhookVerifier):
    """Verifies ``Stripe-Signature`` against each of ``secrets`` (rotation).

    ``tolerance`` (seconds, default :setting:`STRIPE_WEBHOOK_TOLERANCE`) is
    how old a signature may be. The event id makes a delivery idempotent.
    Without a configured secret it checks :data:`SIMULATION_SECRET` while
    simulation secrets are accepted (``simulating``: the client's
    ``debug_mode``).
    """

    simulation_secrets = (SIMULATION_SECRET,)

    def __init__(
        self,
        secrets: Sequence[str],
        *,
        tolerance: int | None = None,
        simulating: bool | None = None,
    ) -> None:
        self.simulating = simulating
        self._secrets = self.secrets_in_force(*secrets)
        self.tolerance = conf.STRIPE_WEBHOOK_TOLERANCE if tolerance is None else tolerance

    @property
    def signing_secret(self) -> str | None:
        return self._secrets[0] if self._secrets else None

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        return self.verify_signature(body, request.headers.get(HEADER))

    def verify_signature(self, payload: bytes | str, signature: str | None) -> VerifiedDelivery:
        """The event ``payload`` carries, if ``signature`` (the header's value) signs it."""
        if not self._secrets:
            raise WebhookVerificationError(
                "STRIPE_WEBHOOK_SECRET is not configured.", error_code="not_configured"
            )
        check, mismatch = _header_verifier()
        reason = "The signature does not match."
        for secret in self._secrets:
            try:
                check(payload, signature, secret, self.tolerance)
            except mismatch as exc:
                reason = str(exc).split(". ")[0] + "."
                continue  # the next secret may sign it
            except (ValueError, TypeError, UnicodeDecodeError):
                reason = f"The {HEADER} header or the body is malformed."
                break
            return _delivery(payload)
        # The SDK's sentence never holds a secret today; make sure it never will.
        raise WebhookVerificationError(Redactor(self._secrets).text(reason))


def _delivery(payload: bytes | str) -> VerifiedDelivery:
    try:
        event = json.loads(payload)
    except ValueError:
        raise WebhookVerificationError(
            "The body is not JSON.", error_code="invalid_payload"
        ) from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise WebhookVerificationError(
            "The body is not a Stripe event.", error_code="invalid_payload"
        )
    # Checked as the endpoint stores them, so a client-side check refuses the same events.
    return VerifiedDelivery(
        event_id=event_key(event["id"], "The event id"),
        event_type=event_key(event["type"], "The event type"),
        payload=event,
    )
