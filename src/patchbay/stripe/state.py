"""Apply Stripe objects from webhooks to local state, never letting old data win.

Every lookup is of the current tenant's rows (handlers and shortcuts run
under :func:`~patchbay.tenancy.use_tenant`): two Stripe accounts may well
know the same ids, and one tenant's event never writes another's rows.

Every write carries a :class:`Clock`; a row is overwritten only by a change
whose clock is not older than the row's. Stripe's ``created`` has 1-second
resolution, so changes of one second are ordered by when patchbay first
received them: a replay of an earlier one (its first reception is older)
never undoes a later one, a genuine later one of the same second applies.
Statuses Stripe never leaves (``canceled``, ``incomplete_expired``) or never
returns to (``incomplete``) are kept whatever the clocks say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone as django_timezone

from patchbay.models import StripeCustomer, StripeSubscription, WebhookEvent

CANCELED = "canceled"
INCOMPLETE = "incomplete"
#: Statuses a subscription never leaves.
FINAL = (CANCELED, "incomplete_expired")
PAID = "paid"


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=timezone.utc) if value else None


@dataclass(frozen=True)
class Clock:
    """When a change happened at Stripe, and when patchbay first learned of it.

    ``at`` is on Stripe's clock (an event's ``created``, whole seconds);
    ``received`` on the local one (the event's first reception, or when a
    shortcut wrote Stripe's answer). They are only compared with their kind.
    """

    at: datetime | None
    received: datetime

    @classmethod
    def of_event(cls, event: WebhookEvent) -> Clock:
        # received_at is the first reception: a redelivery or a reprocess keeps it.
        received: datetime | None = event.received_at  # None on an event never stored
        return cls(_timestamp(event.payload.get("created")), received or _now())

    @classmethod
    def of_answer(cls, stripe_time: Any) -> Clock:
        """The clock of an API answer: ``stripe_time`` (seconds), else now in whole seconds."""
        now = _now()
        return cls(_timestamp(stripe_time) or now.replace(microsecond=0), now)

    def not_older_than_row(self, at_field: str, received_field: str | None = None) -> Q:
        """The rows this change may overwrite: their clock is not newer than it."""
        unset = Q(**{f"{at_field}__isnull": True})
        if self.at is None:  # a change of unknown time only fills rows of unknown time
            return unset
        same_second = Q(**{at_field: self.at})
        if received_field is not None:
            same_second &= Q(**{f"{received_field}__isnull": True}) | Q(
                **{f"{received_field}__lte": self.received}
            )
        return unset | Q(**{f"{at_field}__lt": self.at}) | same_second

    def fields(self, at_field: str, received_field: str) -> dict[str, datetime | None]:
        return {at_field: self.at, received_field: self.received}


def _now() -> datetime:
    return django_timezone.now()


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
        link = (
            StripeCustomer.objects.for_tenant()
            .filter(customer_id=customer_id)
            .select_related("user")
            .first()
        )
        user = link.user if link else None
    return user


def link_customer(
    customer_id: str, user: AbstractBaseUser | None, email: str = "", clock: Clock | None = None
) -> None:
    """Remember ``customer_id`` (and its user), and give the user its orphan subscriptions.

    A known email is replaced only by a new one: a Checkout that reuses the
    customer may carry none. With ``clock``, a row a newer change wrote is
    left as it is (orphan subscriptions still get the user: that fills in,
    never overwrites).
    """
    defaults: dict[str, Any] = {"email": email} if email else {}
    if (
        user is not None
        and not StripeCustomer.objects.for_tenant()
        .filter(user_id=user.pk)
        .exclude(customer_id=customer_id)
        .exists()
    ):
        defaults["user"] = user
    rows = StripeCustomer.objects.for_tenant().filter(customer_id=customer_id)
    if clock is not None:
        defaults.update(clock.fields("last_event_at", "last_event_received_at"))
        rows = rows.filter(clock.not_older_than_row("last_event_at", "last_event_received_at"))
    for _attempt in range(2):
        if defaults and rows.update(**defaults, updated_at=_now()):
            break
        _, created = StripeCustomer.objects.for_tenant().get_or_create(
            customer_id=customer_id, defaults={"email": "", **defaults}
        )
        if created or not defaults:
            break
        # Stored already: newer than this change, or stored a moment ago by an older
        # one (a concurrent delivery): the second update tells which.
    if user is not None:
        StripeSubscription.objects.for_tenant().filter(
            customer_id=customer_id, user__isnull=True
        ).update(user=user)


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


def _writable(subscription_id: str, clock: Clock, status: str | None) -> Any:
    """The row a change to ``status`` (None: unchanged) at ``clock`` may write, if any."""
    rows = (
        StripeSubscription.objects.for_tenant()
        .filter(subscription_id=subscription_id)
        .filter(clock.not_older_than_row("last_event_at", "last_event_received_at"))
    )
    if status not in FINAL:
        rows = rows.exclude(status__in=FINAL)
    if status == INCOMPLETE:  # a subscription that left incomplete never returns to it
        rows = rows.filter(status__in=(INCOMPLETE, ""))
    return rows


def apply_subscription(sub: dict[str, Any], clock: Clock) -> StripeSubscription:
    """Write ``sub`` unless the row already reflects a newer change.

    A conditional UPDATE keeps this atomic: two deliveries racing each other
    cannot write an older state over a newer one.
    """
    fields = {
        **_subscription_fields(sub),
        **clock.fields("last_event_at", "last_event_received_at"),
    }
    user = user_for(fields["customer_id"], sub.get("metadata"))
    if user is not None:
        fields["user"] = user
    subscription_id = sub["id"]
    for _attempt in range(2):
        if _writable(subscription_id, clock, fields["status"]).update(**fields, updated_at=_now()):
            break
        _, created = StripeSubscription.objects.for_tenant().get_or_create(
            subscription_id=subscription_id, defaults=fields
        )
        if created:
            break
        # Stored already: newer (or final), or stored a moment ago by an older
        # concurrent delivery; the second update tells which.
    return StripeSubscription.objects.for_tenant().get(subscription_id=subscription_id)


def apply_answer(subscription_id: str, change: dict[str, Any], clock: Clock) -> bool:
    """Write ``change``, which Stripe just confirmed to a shortcut, ordered like events.

    Returns whether it was written (not when the row is unknown or newer).
    """
    rows = _writable(subscription_id, clock, change.get("status"))
    written = rows.update(
        **change, **clock.fields("last_event_at", "last_event_received_at"), updated_at=_now()
    )
    return bool(written)


def apply_invoice(invoice: dict[str, Any], status: str, clock: Clock) -> None:
    """Record the subscription's latest invoice status, unless a newer invoice event did.

    In one second, ``paid`` wins: a paid invoice stays paid.
    """
    subscription_id = invoice.get("subscription") or (
        ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    )
    if not subscription_id:
        return
    rows = StripeSubscription.objects.for_tenant().filter(subscription_id=subscription_id)
    if clock.at is None:
        rows = rows.filter(latest_invoice_event_at__isnull=True)
    else:
        rows = rows.filter(
            Q(latest_invoice_event_at__isnull=True)
            | Q(latest_invoice_event_at__lt=clock.at)
            | Q(latest_invoice_event_at=clock.at)
            & (Q(latest_invoice_status=status) | ~Q(latest_invoice_status=PAID))
        )
    rows.update(latest_invoice_status=status, latest_invoice_event_at=clock.at)
