"""Offline Stripe: objects shaped like the API's, and a simulated Checkout.

The simulated Checkout page (``patchbay:stripe-simulated-checkout``) plays
Stripe: "Pay" signs the events real Checkout would send with the webhook
secret and delivers them to the project's own webhook endpoint, so the
developer's handlers and patchbay's local state run exactly as in production.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, NamedTuple

from django.core import signing
from django.http import HttpRequest, HttpResponse

from patchbay.conf import conf
from patchbay.core.simulation import fake_id
from patchbay.core.urls import patchbay_path
from patchbay.stripe.signature import SIMULATION_SECRET, signature_header
from patchbay.tenancy import UNSET
from patchbay.webhooks.loopback import deliver_webhook

#: Signs simulated events when no STRIPE_WEBHOOK_SECRET is configured (public: accepted
#: only while DEBUG is on).
WEBHOOK_SECRET = SIMULATION_SECRET
_CHECKOUT_SALT = "patchbay.stripe.simulated-checkout"
_PERIOD = 30 * 24 * 3600

__all__ = ["WEBHOOK_SECRET", "fake_id"]


def _now() -> int:
    return int(time.time())


class CheckoutToken(NamedTuple):
    """What a simulated Checkout URL carries: the session, and whose it is."""

    session: dict[str, Any]
    #: The tenant whose client made it ("" site-wide): its events go to that tenant's endpoint.
    tenant_key: str


def checkout_session(params: dict[str, Any], tenant_key: str = "") -> dict[str, Any]:
    session = {
        "id": fake_id("cs_test_", 40),
        "object": "checkout.session",
        "mode": params.get("mode", "payment"),
        "status": "open",
        "payment_status": "unpaid",
        "customer": params.get("customer"),
        "customer_email": params.get("customer_email"),
        "client_reference_id": params.get("client_reference_id"),
        "metadata": params.get("metadata") or {},
        "success_url": params["success_url"],
        "cancel_url": params["cancel_url"],
        "line_items": params.get("line_items", []),
        "subscription_data": params.get("subscription_data") or {},
        "created": _now(),
        "livemode": False,
    }
    token = signing.dumps(
        {"session": session, "tenant": tenant_key}, salt=_CHECKOUT_SALT, compress=True
    )
    path = patchbay_path("patchbay:stripe-simulated-checkout", kwargs={"token": token})
    return {**session, "url": conf.PUBLIC_URL + path}


def load_checkout_session(token: str) -> CheckoutToken:
    """The session a simulated Checkout URL carries; raises ``signing.BadSignature``."""
    loaded: dict[str, Any] = signing.loads(token, salt=_CHECKOUT_SALT, max_age=24 * 3600)
    return CheckoutToken(loaded["session"], str(loaded.get("tenant") or ""))


def customer(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": fake_id("cus_"),
        "object": "customer",
        "created": _now(),
        "livemode": False,
        "email": params.get("email"),
        "name": params.get("name"),
        "metadata": params.get("metadata") or {},
    }


def subscription(params: dict[str, Any], subscription_id: str | None = None) -> dict[str, Any]:
    now = _now()
    trial_days = params.get("trial_period_days")
    items = [
        {
            "id": fake_id("si_"),
            "object": "subscription_item",
            "price": {"id": item["price"]},
            "current_period_start": now,
            "current_period_end": now + _PERIOD,
        }
        for item in params.get("items", [])
    ]
    return {
        "id": subscription_id or fake_id("sub_"),
        "object": "subscription",
        "customer": params.get("customer"),
        "status": "trialing" if trial_days else "active",
        "items": {"object": "list", "data": items},
        "current_period_start": now,
        "current_period_end": now + _PERIOD,
        "trial_end": now + int(trial_days) * 86400 if trial_days else None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "metadata": params.get("metadata") or {},
        "created": now,
        "livemode": False,
    }


def canceled_subscription(subscription_id: str, *, at_period_end: bool) -> dict[str, Any]:
    sub = subscription({"items": []}, subscription_id)
    # Stripe records when a cancellation was asked for, at period end or now.
    sub["canceled_at"] = _now()
    if at_period_end:
        sub["cancel_at_period_end"] = True
    else:
        sub["status"] = "canceled"
    return sub


def portal_session(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": fake_id("bps_"),
        "object": "billing_portal.session",
        "customer": params["customer"],
        "return_url": params["return_url"],
        "url": params["return_url"],
        "livemode": False,
    }


def refund(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": fake_id("re_"),
        "object": "refund",
        "status": "succeeded",
        "amount": params.get("amount"),
        "payment_intent": params.get("payment_intent"),
        "charge": params.get("charge"),
        "reason": params.get("reason"),
        "created": _now(),
    }


def _session_id(session: dict[str, Any], prefix: str, what: str) -> str:
    """An id derived from the session's: paying it again makes the same objects and events."""
    digest = hashlib.sha256(f"{session['id']}:{what}".encode()).hexdigest()
    return prefix + digest[:24]


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or fake_id("evt_"),
        "object": "event",
        "type": event_type,
        "created": _now(),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
    }


def checkout_events(session: dict[str, Any]) -> list[dict[str, Any]]:
    """The events Stripe sends when ``session`` is paid, in Stripe's usual order.

    Their ids, and those of the objects they make, derive from the session's:
    a session completes once, so delivering them again is a redelivery, which
    the webhook endpoint stores once and runs once (as Stripe's own retries).
    """
    completed = {
        **session,
        "status": "complete",
        "payment_status": "paid",
        "customer": session.get("customer") or _session_id(session, "cus_", "customer"),
    }
    completed.pop("url", None)
    events = []
    if session["mode"] == "subscription":
        price = session["line_items"][0]["price"]
        sub = subscription(
            {
                "customer": completed["customer"],
                "items": [{"price": price}],
                "metadata": session.get("subscription_data", {}).get("metadata") or {},
            },
            _session_id(session, "sub_", "subscription"),
        )
        completed["subscription"] = sub["id"]
        invoice = {
            "id": _session_id(session, "in_", "invoice"),
            "object": "invoice",
            "status": "paid",
            "customer": completed["customer"],
            "subscription": sub["id"],
            "created": _now(),
        }
        events = [
            ("customer.subscription.created", sub),
            ("checkout.session.completed", completed),
            ("invoice.paid", invoice),
        ]
    else:
        if session["mode"] == "payment":
            completed["payment_intent"] = _session_id(session, "pi_", "payment_intent")
        else:
            completed["setup_intent"] = _session_id(session, "seti_", "setup_intent")
        events = [("checkout.session.completed", completed)]
    return [
        event(event_type, obj, _session_id(session, "evt_", event_type))
        for event_type, obj in events
    ]


def is_completed(session: dict[str, Any]) -> bool:
    """Whether ``session`` was paid: every event of its payment is stored as done."""
    from patchbay.models import WebhookEvent
    from patchbay.webhooks.statements import DONE

    event_ids = [item["id"] for item in checkout_events(session)]
    done = (
        WebhookEvent.objects.for_tenant()
        .filter(provider="stripe", event_id__in=event_ids, status__in=DONE)
        .count()
    )
    return done == len(event_ids)


def sells_a_second_subscription(session: dict[str, Any]) -> bool:
    """Whether paying ``session`` would give its user or customer a second live subscription.

    A subscription Checkout opened before the first one was paid (a second tab)
    passed :func:`~patchbay.stripe.shortcuts.create_subscription_checkout`'s
    check; Stripe's Checkout refuses it when "limit customers to one
    subscription" is on, and so does the simulated one, unless
    ``STRIPE_ALREADY_SUBSCRIBED`` is ``"allow"``.
    """
    from django.db.models import Q

    from patchbay.models import StripeSubscription
    from patchbay.stripe.shortcuts import SUBSCRIBED_STATUSES

    if session.get("mode") != "subscription" or conf.STRIPE_ALREADY_SUBSCRIBED.lower() == "allow":
        return False
    whose = Q()
    if session.get("customer"):
        whose |= Q(customer_id=session["customer"])
    if session.get("client_reference_id"):
        # The shortcuts set it to the user's pk; the token is signed, so it is one of ours.
        whose |= Q(user_id=session["client_reference_id"])
    if not whose:
        return False
    # Its own, made by a Pay whose delivery failed half-way, is the one a retry completes.
    own = _session_id(session, "sub_", "subscription")
    return (
        StripeSubscription.objects.for_tenant()
        .filter(whose, status__in=SUBSCRIBED_STATUSES)
        .exclude(subscription_id=own)
        .exists()
    )


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header, as Stripe makes it (no SDK needed)."""
    return signature_header(payload, secret, timestamp)


def deliver_events(
    events: list[dict[str, Any]],
    secret: str,
    request: HttpRequest | None = None,
    *,
    tenant: object = UNSET,
) -> list[HttpResponse]:
    """Sign and deliver ``events`` to ``patchbay:stripe-webhook``, as Stripe would.

    With ``tenant``, to that tenant's endpoint (sign with its secret then).
    """
    responses = []
    for item in events:
        body = json.dumps(item)
        responses.append(
            deliver_webhook(
                "patchbay:stripe-webhook",
                body.encode(),
                headers={"Stripe-Signature": sign(body, secret)},
                on_behalf_of=request,
                tenant=tenant,
            )
        )
    return responses
