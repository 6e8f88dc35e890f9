"""Sign and post Stripe events exactly as Stripe does (``Stripe-Signature``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from patchbay.core.urls import patchbay_path
from patchbay.testing.webhooks import Payload, encode_payload

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse


def stripe_event(
    event_type: str,
    obj: Mapping[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A Stripe event envelope around ``obj`` (the ``data.object``)."""
    from patchbay.stripe.simulation import event

    envelope = event(event_type, dict(obj))
    if event_id is not None:
        envelope["id"] = event_id
    if created is not None:
        envelope["created"] = created
    return envelope


def sign_stripe_payload(
    body: str | bytes, secret: str | None = None, timestamp: int | None = None
) -> str:
    """The ``Stripe-Signature`` header for ``body``, made as Stripe makes it (no SDK needed).

    ``secret`` defaults to the first configured ``STRIPE_WEBHOOK_SECRET``, else
    the simulation secret, which patchbay accepts only while simulating with
    ``DEBUG`` on or in a test run.
    """
    from patchbay.stripe import simulation
    from patchbay.stripe.client import StripeClient

    if secret is None:
        secret = StripeClient().webhook_verifier().signing_secret or simulation.WEBHOOK_SECRET
    text = body.decode() if isinstance(body, bytes) else body
    return simulation.sign(text, secret, timestamp)


def post_stripe_event(
    client: Client,
    event: Payload,
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> _MonkeyPatchedWSGIResponse:
    """POST ``event`` to the Stripe webhook endpoint, signed; ``headers`` may override."""
    body = encode_payload(event)
    return client.post(
        url or patchbay_path("patchbay:stripe-webhook"),
        data=body,
        content_type="application/json",
        headers={
            "Stripe-Signature": sign_stripe_payload(body, secret, timestamp),
            **(headers or {}),
        },
    )
