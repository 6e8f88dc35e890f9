"""patchbay's own Stripe webhook handlers: they keep local state current.

They run before the project's handlers of the same events
(``@receiver("stripe", ...)``), which can therefore read that state. Each
reads the event through :mod:`patchbay.webhooks.shape` first: a field of
the wrong type or too long for its column makes the event malformed, never
a crash the provider would retry.
"""

from __future__ import annotations

from typing import Any

from patchbay.exceptions import MalformedEvent
from patchbay.models import WebhookEvent
from patchbay.stripe import state
from patchbay.webhooks import shape
from patchbay.webhooks.registry import builtin_receiver

OBJECT = "data.object"
ID_LENGTH = 255  # the id columns of StripeCustomer and StripeSubscription
EMAIL_LENGTH = 254  # EmailField


def _object(event: WebhookEvent) -> dict[str, Any]:
    return shape.object_at(event.payload, "data", "object")


def _clock(event: WebhookEvent) -> state.Clock:
    """Where the event stands in its object's history (its ``created`` checked first)."""
    shape.timestamp(event.payload, "created")
    return state.Clock.of_event(event)


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's metadata, whose ``user_id`` (a string in Stripe) names the user."""
    metadata = shape.optional_object(obj, "metadata", OBJECT)
    shape.text(metadata, "user_id", f"{OBJECT}.metadata", max_length=500)
    return metadata


@builtin_receiver("stripe", "checkout.session.completed")
def checkout_completed(event: WebhookEvent) -> None:
    session = _object(event)
    customer_id = shape.text(session, "customer", OBJECT, max_length=ID_LENGTH)
    if not customer_id:
        return
    reference = shape.text(session, "client_reference_id", OBJECT, max_length=200)
    metadata = _metadata(session)
    details = shape.optional_object(session, "customer_details", OBJECT)
    email = shape.text(session, "customer_email", OBJECT, max_length=EMAIL_LENGTH) or shape.text(
        details, "email", f"{OBJECT}.customer_details", max_length=EMAIL_LENGTH
    )
    user = state.user_by_id(reference) or state.user_for(None, metadata)
    state.link_customer(customer_id, user, email or "", _clock(event))


def _check_subscription(sub: dict[str, Any]) -> None:
    """Refuse a subscription whose fields ``state.apply_subscription`` cannot store."""
    shape.text(sub, "id", OBJECT, max_length=ID_LENGTH, required=True)
    shape.text(sub, "customer", OBJECT, max_length=ID_LENGTH)
    shape.text(sub, "status", OBJECT, max_length=32)
    shape.timestamp(sub, "current_period_end", OBJECT)
    shape.timestamp(sub, "canceled_at", OBJECT)
    _metadata(sub)
    items = shape.optional_object(sub, "items", OBJECT)
    where = f"{OBJECT}.items.data"
    for index, item in enumerate(shape.optional_list(items, "data", f"{OBJECT}.items")[:1]):
        if not isinstance(item, dict):
            raise MalformedEvent(f"{where}[{index}] is not an object.")
        price = shape.optional_object(item, "price", f"{where}[{index}]")
        shape.text(price, "id", f"{where}[{index}].price", max_length=ID_LENGTH)
        shape.timestamp(item, "current_period_end", f"{where}[{index}]")


@builtin_receiver(
    "stripe",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
def subscription_changed(event: WebhookEvent) -> None:
    sub = _object(event)
    _check_subscription(sub)
    if shape.timestamp(event.payload, "created") is None:
        # What orders the events of one subscription: never guess it.
        raise MalformedEvent("created is missing.")
    state.apply_subscription(sub, _clock(event))


def _check_invoice(invoice: dict[str, Any]) -> None:
    shape.text(invoice, "subscription", OBJECT, max_length=ID_LENGTH)
    parent = shape.optional_object(invoice, "parent", OBJECT)
    details = shape.optional_object(parent, "subscription_details", f"{OBJECT}.parent")
    shape.text(
        details, "subscription", f"{OBJECT}.parent.subscription_details", max_length=ID_LENGTH
    )


@builtin_receiver("stripe", "invoice.paid")
def invoice_paid(event: WebhookEvent) -> None:
    invoice = _object(event)
    _check_invoice(invoice)
    state.apply_invoice(invoice, "paid", _clock(event))


@builtin_receiver("stripe", "invoice.payment_failed")
def invoice_payment_failed(event: WebhookEvent) -> None:
    invoice = _object(event)
    _check_invoice(invoice)
    state.apply_invoice(invoice, "payment_failed", _clock(event))
