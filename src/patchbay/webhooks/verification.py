"""What every provider's webhook verifier is: the shared base, and what it returns.

A provider's verifier (``StripeWebhookVerifier``, ``LoopsWebhookVerifier``,
``StatusCallbackVerifier``...) is made with the secrets it checks against, so
the endpoint and any client-side check (``StripeClient.verify_webhook_signature``)
run the same code and refuse a delivery for the same reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from patchbay.exceptions import WebhookVerificationError

if TYPE_CHECKING:
    from django.http import HttpRequest

__all__ = ["VerifiedDelivery", "WebhookVerificationError", "WebhookVerifier"]


class VerifiedDelivery(NamedTuple):
    """What a provider's verifier extracts from an authentic delivery."""

    event_id: str
    event_type: str
    payload: dict[str, Any]


class WebhookVerifier:
    """Decides whether a delivery comes from the provider, and which event it carries.

    Subclasses take their secrets in their constructor and implement
    :meth:`verify`. A verifier never shows its secrets: its ``repr()`` is its
    class name.
    """

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        """The event ``body`` carries, if the delivery is authentic and well formed.

        ``body`` is the raw body the endpoint read (at most
        :setting:`PATCHBAY_WEBHOOK_MAX_BODY_SIZE` bytes): check the signature
        of these bytes, never of a re-serialized payload. Raises
        :exc:`~patchbay.exceptions.WebhookVerificationError` with the reason
        otherwise.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
