"""Stripe demo: pricing page → Checkout → success page naming the plan → billing portal.

The plans are ``BILLING_PLANS`` in the example's settings (name, amount,
currency, interval, price id). Offline (simulation on) any price id works and
Checkout is patchbay's simulated page; live, set ``STRIPE_PRICE_BASIC`` /
``STRIPE_PRICE_PRO`` to real Price ids of those amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from patchbay.core.simulation import should_simulate
from patchbay.models import StripeSubscription
from patchbay.stripe.client import StripeClient
from patchbay.stripe.shortcuts import (
    cancel_user_subscription,
    create_subscription_checkout,
    get_active_subscription,
)

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    amount: Decimal
    currency: str
    interval: str
    price_id: str

    @property
    def price(self) -> str:
        """What a person reads: "€5 / month" (cents only when there are some)."""
        amount = f"{self.amount:,.2f}".removesuffix(".00")
        symbol = SYMBOLS.get(self.currency.upper())
        money = f"{symbol}{amount}" if symbol else f"{amount} {self.currency.upper()}"
        return f"{money} / {self.interval}"


def plans() -> dict[str, Plan]:
    return {
        key: Plan(
            key=key,
            name=plan["name"],
            amount=Decimal(plan["amount"]),
            currency=plan["currency"],
            interval=plan["interval"],
            price_id=plan["price_id"],
        )
        for key, plan in settings.BILLING_PLANS.items()
    }


def plan_of(subscription: StripeSubscription | None) -> Plan | None:
    """The plan a subscription is to, found by its price id (None for a price no plan has)."""
    if subscription is None:
        return None
    return next((p for p in plans().values() if p.price_id == subscription.price_id), None)


def _subscription_context(request: HttpRequest) -> dict[str, object]:
    subscription = get_active_subscription(request.user)
    return {"subscription": subscription, "plan": plan_of(subscription)}


def _subscription_or_say_none(request: HttpRequest) -> StripeSubscription | None:
    # A form posted from a page older than the subscription's end (another tab) lands here.
    subscription = get_active_subscription(request.user)
    if subscription is None:
        messages.error(request, "You have no active subscription.")
    return subscription


@login_required
def pricing(request: HttpRequest) -> HttpResponse:
    return render(
        request, "billing/pricing.html", {"plans": plans(), **_subscription_context(request)}
    )


@login_required
@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    plan = plans().get(request.POST.get("plan", ""))
    if plan is None:
        messages.error(request, "Choose a plan.")
        return redirect("billing:pricing")
    success_url = request.build_absolute_uri(reverse("billing:success"))
    # The default STRIPE_ALREADY_SUBSCRIBED refuses a second subscription here, whatever
    # the page showed: a form replayed from another tab or by hand is refused as well.
    result = create_subscription_checkout(
        plan.price_id,
        user=request.user,
        success_url=success_url + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=request.build_absolute_uri(reverse("billing:checkout_cancelled")),
    )
    if not result["success"]:
        if result["error_code"] == "already_subscribed":
            messages.warning(
                request,
                "You are subscribed already: change your plan in the billing portal "
                "instead of buying a second subscription.",
            )
        else:
            messages.error(request, f"Checkout could not start: {result['error']}")
        return redirect("billing:pricing")
    return redirect(result["session"]["url"])


@login_required
def checkout_cancelled(request: HttpRequest) -> HttpResponse:
    # Checkout's cancel URL: say so once, then the plain pricing page (a reload says nothing).
    messages.info(request, "Checkout cancelled: you were not charged.")
    return redirect("billing:pricing")


@login_required
def success(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/success.html", _subscription_context(request))


@login_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    """Stripe's billing portal for the subscriber, where plans are changed (and cards, invoices)."""
    subscription = _subscription_or_say_none(request)
    if subscription is None:
        return redirect("billing:pricing")
    back = request.build_absolute_uri(reverse("billing:pricing"))
    result = StripeClient().create_billing_portal_session(subscription.customer_id, back)
    if not result["success"]:
        messages.error(request, f"The billing portal could not open: {result['error']}")
        return redirect("billing:pricing")
    if should_simulate():
        # The simulated portal is no page: its session returns at once.
        messages.info(
            request,
            "Simulation: Stripe's billing portal returned here at once; "
            "cancel at period end below.",
        )
    return redirect(result["session"]["url"])


@login_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    subscription = _subscription_or_say_none(request)
    if subscription is None:
        return redirect("billing:pricing")
    if subscription.cancel_at_period_end:
        messages.info(request, "Your subscription already ends with the current period.")
        return redirect("billing:pricing")
    result = cancel_user_subscription(subscription.subscription_id, at_period_end=True)
    if result["success"]:
        messages.success(request, "Your subscription ends with the current period.")
    else:
        messages.error(request, f"Cancelling failed: {result['error']}")
    return redirect("billing:pricing")
