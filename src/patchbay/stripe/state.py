"""Apply Stripe objects from webhooks to local state, never letting old data win."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Q

from patchbay.models import StripeCustomer, StripeSubscription

CANCELED = "canceled"


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=timezone.utc) if value else None


def user_by_id(user_id: Any) -> AbstractBaseUser | None:
    if not user_id:
        return None
    try:
        user: AbstractBaseUser | None = get_user_model().objects.filter(pk=user_id).first()
    except (ValueError, TypeError, ValidationError):
        return None
    return user


def user_for(customer_id: str | None, metadata: dict[str, Any] | None) -> AbstractBaseUser | None:
    """The user an object belongs to: its ``user_id`` metadata, else its customer's user."""
    user = user_by_id((metadata or {}).get("user_id"))
    if user is None and customer_id:
        link = StripeCustomer.objects.filter(customer_id=customer_id).select_related("user").first()
        user = link.user if link else None
    return user


def link_customer(customer_id: str, user: AbstractBaseUser | None, email: str = "") -> None:
    """Remember ``customer_id`` (and its user), and give the user its orphan subscriptions.

    A known email is replaced only by a new one: a Checkout that reuses the
    customer may carry none.
    """
    defaults: dict[str, Any] = {"email": email} if email else {}
    if (
        user is not None
        and not StripeCustomer.objects.filter(user_id=user.pk)
        .exclude(customer_id=customer_id)
        .exists()
    ):
        defaults["user"] = user
    StripeCustomer.objects.update_or_create(
        customer_id=customer_id, defaults=defaults, create_defaults={"email": "", **defaults}
    )
    if user is not None:
        StripeSubscription.objects.filter(customer_id=customer_id, user__isnull=True).update(
            user=user
        )


def _subscription_fields(sub: dict[str, Any]) -> dict[str, Any]:
    items = (sub.get("items") or {}).get("data") or [{}]
    first = items[0]
    # API versions from 2025-03 keep the period on the item, older ones on the subscription.
    period_end = first.get("current_period_end") or sub.get("current_period_end")
    return {
        "customer_id": sub.get("customer") or "",
        "status": sub.get("status") or "",
        "price_id": (first.get("price") or {}).get("id", ""),
        "current_period_end": _timestamp(period_end),
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "canceled_at": _timestamp(sub.get("canceled_at")),
    }


def apply_subscription(sub: dict[str, Any], event_created: int) -> StripeSubscription:
    """Write ``sub`` unless the row already reflects a newer event.

    A conditional UPDATE keeps this atomic; a canceled subscription is final
    in Stripe, so only a cancellation may touch it again.
    """
    at = _timestamp(event_created)
    fields = {**_subscription_fields(sub), "last_event_at": at}
    user = user_for(fields["customer_id"], sub.get("metadata"))
    if user is not None:
        fields["user"] = user
    subscription_id = sub["id"]
    for _attempt in range(2):
        newer_or_equal = StripeSubscription.objects.filter(subscription_id=subscription_id).filter(
            Q(last_event_at__isnull=True) | Q(last_event_at__lte=at)
        )
        if fields["status"] != CANCELED:
            newer_or_equal = newer_or_equal.exclude(status=CANCELED)
        if newer_or_equal.update(**fields):
            break
        row, created = StripeSubscription.objects.get_or_create(
            subscription_id=subscription_id, defaults=fields
        )
        if created or (row.last_event_at and at and row.last_event_at > at):
            break
    return StripeSubscription.objects.get(subscription_id=subscription_id)


def apply_invoice(invoice: dict[str, Any], status: str) -> None:
    subscription_id = invoice.get("subscription") or (
        ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    )
    if subscription_id:
        StripeSubscription.objects.filter(subscription_id=subscription_id).update(
            latest_invoice_status=status
        )
