"""patchbay's own Stripe webhook handlers: they keep local state current.

They run before the project's handlers of the same events
(``@receiver("stripe", ...)``), which can therefore read that state.
"""

from __future__ import annotations

from patchbay.models import WebhookEvent
from patchbay.stripe import state
from patchbay.webhooks.registry import builtin_receiver


def _object(event: WebhookEvent) -> dict:  # type: ignore[type-arg]
    obj: dict = event.payload["data"]["object"]  # type: ignore[type-arg]
    return obj


@builtin_receiver("stripe", "checkout.session.completed")
def checkout_completed(event: WebhookEvent) -> None:
    session = _object(event)
    customer_id = session.get("customer")
    if not customer_id:
        return
    user = state.user_by_id(session.get("client_reference_id")) or state.user_for(
        None, session.get("metadata")
    )
    email = session.get("customer_email") or (session.get("customer_details") or {}).get("email")
    state.link_customer(customer_id, user, email or "", state.Clock.of_event(event))


@builtin_receiver(
    "stripe",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
def subscription_changed(event: WebhookEvent) -> None:
    state.apply_subscription(_object(event), state.Clock.of_event(event))


@builtin_receiver("stripe", "invoice.paid")
def invoice_paid(event: WebhookEvent) -> None:
    state.apply_invoice(_object(event), "paid", state.Clock.of_event(event))


@builtin_receiver("stripe", "invoice.payment_failed")
def invoice_payment_failed(event: WebhookEvent) -> None:
    state.apply_invoice(_object(event), "payment_failed", state.Clock.of_event(event))
