"""The result types of the Stripe client and shortcuts (see :mod:`patchbay.results`).

Stripe's objects are plain dicts as the API returns them (``dict[str, Any]``).
"""

from __future__ import annotations

from typing import Any

from patchbay.results import Failure, NotRequired, Success

__all__ = [
    "CheckoutSessionResult",
    "CheckoutSessionSuccess",
    "CustomerFromUserResult",
    "CustomerFromUserSuccess",
    "CustomerResult",
    "CustomerSuccess",
    "PortalSessionResult",
    "PortalSessionSuccess",
    "RefundResult",
    "RefundSuccess",
    "SubscriptionResult",
    "SubscriptionSuccess",
]


class CheckoutSessionSuccess(Success):
    """A Checkout Session; ``session["url"]`` is where to send the customer.

    ``already_subscribed`` (True) says ``session`` is a billing portal session
    instead: ``create_subscription_checkout`` for a subscribed user, with
    ``STRIPE_ALREADY_SUBSCRIBED = "portal"``.
    """

    session: dict[str, Any]
    already_subscribed: NotRequired[bool]


CheckoutSessionResult = CheckoutSessionSuccess | Failure


class PortalSessionSuccess(Success):
    """A Customer Portal session; ``session["url"]`` lets the customer self-serve."""

    session: dict[str, Any]


PortalSessionResult = PortalSessionSuccess | Failure


class CustomerSuccess(Success):
    """A customer (``customer["id"]``...)."""

    customer: dict[str, Any]


CustomerResult = CustomerSuccess | Failure


class CustomerFromUserSuccess(CustomerSuccess):
    """:func:`~patchbay.stripe.shortcuts.create_customer_from_user`: whether it was ``created`` now.

    A customer that existed already has only ``id`` and ``email``.
    """

    created: bool


CustomerFromUserResult = CustomerFromUserSuccess | Failure


class SubscriptionSuccess(Success):
    """A subscription, created, retrieved or cancelled."""

    subscription: dict[str, Any]


SubscriptionResult = SubscriptionSuccess | Failure


class RefundSuccess(Success):
    """A refund."""

    refund: dict[str, Any]


RefundResult = RefundSuccess | Failure
