"""High-level Stripe functions for views: the spec's shortcuts plus ``get_active_subscription``."""

from __future__ import annotations

import logging
from typing import Any, TypeGuard
from urllib.parse import urljoin

from django.contrib.auth.base_user import AbstractBaseUser

from patchbay.conf import conf
from patchbay.core.arguments import mapping, optional_text, refusal
from patchbay.exceptions import ServiceError
from patchbay.models import StripeCustomer, StripeSubscription
from patchbay.results import Result, failure
from patchbay.stripe.client import StripeClient
from patchbay.stripe.results import (
    CheckoutSessionResult,
    CustomerFromUserResult,
    SubscriptionResult,
)
from patchbay.stripe.state import CANCELED, Clock, apply_answer, link_customer
from patchbay.tenancy import UNSET, tenant_argument_error, tenant_scoped

logger = logging.getLogger("patchbay.stripe")


def _absolute(url: str) -> str:
    # Stripe wants absolute URLs; relative settings are resolved against the public URL.
    return urljoin(conf.PUBLIC_URL + "/", url) if conf.PUBLIC_URL else url


def _signed_in(user: AbstractBaseUser | None) -> TypeGuard[AbstractBaseUser]:
    # AnonymousUser has pk None: filtering on it would match the customers of no one.
    return bool(getattr(user, "is_authenticated", False))


@tenant_scoped
def create_checkout_session(
    price_id: str,
    success_url: str | None = None,
    cancel_url: str | None = None,
    customer_email: str | None = None,
    mode: str = "payment",
    metadata: dict[str, Any] | None = None,
    user: AbstractBaseUser | None = None,
    *,
    tenant: object = UNSET,
) -> CheckoutSessionResult:
    """A Checkout Session, filled in from settings and ``user``.

    URLs default to ``STRIPE_CHECKOUT_SUCCESS_URL`` / ``STRIPE_CHECKOUT_CANCEL_URL``
    (relative ones are joined to ``PATCHBAY_PUBLIC_URL``). With ``user``: their
    existing Stripe customer is reused (else their email prefills Checkout),
    and ``user_id`` goes into the metadata so webhooks link everything back.
    An anonymous ``user`` (a visitor's ``request.user``) counts as none.
    """
    try:
        metadata = mapping(metadata, "metadata")
        success_url = optional_text(success_url, "success_url")
        cancel_url = optional_text(cancel_url, "cancel_url")
    except ServiceError as exc:
        return refusal(exc)
    kwargs: dict[str, Any] = {"mode": mode}
    if _signed_in(user):
        metadata.setdefault("user_id", str(user.pk))
        kwargs["client_reference_id"] = str(user.pk)
        link = StripeCustomer.objects.for_tenant().filter(user_id=user.pk).first()
        if link is not None:
            kwargs["customer_id"] = link.customer_id
        else:
            customer_email = customer_email or getattr(user, "email", None) or None
    if mode == "subscription":
        kwargs["subscription_data"] = {"metadata": metadata}
    success = _absolute(success_url or conf.STRIPE_CHECKOUT_SUCCESS_URL)
    cancel = _absolute(cancel_url or conf.STRIPE_CHECKOUT_CANCEL_URL)
    result = StripeClient().create_checkout_session(
        price_id, success, cancel, customer_email=customer_email, metadata=metadata, **kwargs
    )
    if not result["success"]:
        logger.warning("Checkout session for price %s failed: %s", price_id, result["error"])
    return result


#: Statuses of a subscription Stripe still bills (or tries to): a second would charge twice.
SUBSCRIBED_STATUSES = ("active", "trialing", "past_due", "unpaid")


@tenant_scoped
def create_subscription_checkout(
    price_id: str,
    user: AbstractBaseUser | None = None,
    *,
    tenant: object = UNSET,
    **kwargs: Any,
) -> CheckoutSessionResult:
    """:func:`create_checkout_session` in subscription mode, once per user.

    A signed-in ``user`` with a live subscription (active, trialing, past due
    or unpaid) gets what :setting:`STRIPE_ALREADY_SUBSCRIBED` says: by default
    a failure with ``error_code`` ``already_subscribed``; with ``"portal"`` a
    billing portal session of their customer (``session["url"]``, and
    ``already_subscribed`` True) returning to ``cancel_url``; with
    ``"allow"`` a Checkout for a second subscription.
    """
    existing = _live_subscription(user)
    if existing is not None and conf.STRIPE_ALREADY_SUBSCRIBED.lower() != "allow":
        if conf.STRIPE_ALREADY_SUBSCRIBED.lower() == "portal":
            return _billing_portal(existing, kwargs.get("cancel_url"))
        return failure(
            "This user has a subscription already; manage it instead of buying another.",
            error_code="already_subscribed",
        )
    return create_checkout_session(price_id, mode="subscription", user=user, **kwargs)


def _live_subscription(user: AbstractBaseUser | None) -> StripeSubscription | None:
    if not _signed_in(user):
        return None
    return (
        StripeSubscription.objects.for_tenant()
        .filter(user_id=user.pk, status__in=SUBSCRIBED_STATUSES)
        .first()
    )


def _billing_portal(
    subscription: StripeSubscription, return_url: str | None
) -> CheckoutSessionResult:
    back = _absolute(return_url or conf.STRIPE_CHECKOUT_CANCEL_URL)
    result = StripeClient().create_billing_portal_session(subscription.customer_id, back)
    if not result["success"]:
        logger.warning(
            "Billing portal for %s failed: %s", subscription.customer_id, result["error"]
        )
        return result
    portal: CheckoutSessionResult = {**result, "already_subscribed": True}
    return portal


@tenant_scoped
def create_customer_from_user(
    user: AbstractBaseUser, *, tenant: object = UNSET
) -> CustomerFromUserResult:
    """The user's Stripe customer, created (and remembered) only if they have none.

    ``result["created"]`` says whether a customer was created now. An anonymous
    user has none: ``invalid_request``.
    """
    if not _signed_in(user):
        return failure("An anonymous user has no Stripe customer.", error_code="invalid_request")
    existing = StripeCustomer.objects.for_tenant().filter(user_id=user.pk).first()
    if existing is not None:
        return {
            "success": True,
            "created": False,
            "customer": {"id": existing.customer_id, "email": existing.email},
        }
    full_name = getattr(user, "get_full_name", lambda: "")() or None
    email = getattr(user, "email", "") or ""
    result = StripeClient().create_customer(
        email=email, name=full_name, metadata={"user_id": str(user.pk)}
    )
    if not result["success"]:
        return result
    customer = result["customer"]
    link_customer(customer["id"], user, email, Clock.of_answer(customer.get("created")))
    return {**result, "created": True}


@tenant_scoped
def cancel_user_subscription(
    subscription_id: str, at_period_end: bool = True, *, tenant: object = UNSET
) -> SubscriptionResult:
    """Cancel a subscription (at period end by default) and reflect it locally at once.

    The local write takes part in the ordering of webhook events: its clock is
    the answer's ``canceled_at`` (when Stripe recorded the cancellation), so
    replaying an older event cannot undo it, while the webhook Stripe sends
    next (``customer.subscription.updated`` or ``.deleted``) still applies.
    """
    result = StripeClient().cancel_subscription(subscription_id, at_period_end=at_period_end)
    if not result["success"]:
        logger.warning("Cancelling %s failed: %s", subscription_id, result["error"])
        return result
    clock = Clock.of_answer((result.get("subscription") or {}).get("canceled_at"))
    change: dict[str, Any] = (
        {"cancel_at_period_end": True}
        if at_period_end
        else {"status": CANCELED, "canceled_at": clock.at}
    )
    apply_answer(subscription_id, change, clock)
    return result


@tenant_scoped
def handle_webhook_event(
    payload: bytes | str, signature: str | None, *, tenant: object = UNSET
) -> Result:
    """Verify and parse a Stripe webhook (``verified`` and ``event``).

    patchbay's own endpoint (``patchbay:stripe-webhook``) already does this and
    more (stores each event once, dispatches to handlers); use this only in a
    view of your own; ``tenant`` names whose webhook secret verifies it.
    """
    result = StripeClient(tenant=tenant).verify_webhook_signature(payload, signature)
    if not result["success"]:
        return {**result, "verified": False}
    return result


def get_active_subscription(
    user: AbstractBaseUser, *, tenant: object = UNSET
) -> StripeSubscription | None:
    """The user's active or trialing subscription ending last, or None (bad ``tenant``: None)."""
    if not _signed_in(user) or tenant_argument_error(tenant) is not None:
        return None
    return (
        StripeSubscription.objects.for_tenant(tenant)
        .filter(user_id=user.pk, status__in=StripeSubscription.ACTIVE_STATUSES)
        .order_by("-current_period_end", "-id")
        .first()
    )
