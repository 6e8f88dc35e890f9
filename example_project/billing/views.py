"""Stripe demo: pricing page → Checkout → success page with the subscription's state.

Offline (simulation on) any price id works and Checkout is patchbay's simulated
page; live, set ``STRIPE_PRICE_BASIC`` / ``STRIPE_PRICE_PRO`` to real price ids.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from patchbay.stripe.shortcuts import (
    cancel_user_subscription,
    create_subscription_checkout,
    get_active_subscription,
)


def plans() -> dict[str, dict[str, str]]:
    return {
        "basic": {"name": "Basic", "price": "€5 / month", "price_id": settings.STRIPE_PRICE_BASIC},
        "pro": {"name": "Pro", "price": "€15 / month", "price_id": settings.STRIPE_PRICE_PRO},
    }


@login_required
def pricing(request: HttpRequest) -> HttpResponse:
    context = {"plans": plans(), "subscription": get_active_subscription(request.user)}
    return render(request, "billing/pricing.html", context)


@login_required
@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    plan = plans().get(request.POST.get("plan", ""))
    if plan is None:
        messages.error(request, "Choose a plan.")
        return redirect("billing:pricing")
    success_url = request.build_absolute_uri(reverse("billing:success"))
    result = create_subscription_checkout(
        plan["price_id"],
        user=request.user,
        success_url=success_url + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=request.build_absolute_uri(reverse("billing:pricing")),
    )
    if not result["success"]:
        if result["error_code"] == "already_subscribed":  # STRIPE_ALREADY_SUBSCRIBED
            messages.info(request, "You have a subscription already.")
        else:
            messages.error(request, f"Checkout could not start: {result['error']}")
        return redirect("billing:pricing")
    return redirect(result["session"]["url"])


@login_required
def success(request: HttpRequest) -> HttpResponse:
    context = {"subscription": get_active_subscription(request.user)}
    return render(request, "billing/success.html", context)


@login_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    subscription = get_active_subscription(request.user)
    if subscription is None:
        messages.error(request, "You have no active subscription.")
    else:
        result = cancel_user_subscription(subscription.subscription_id, at_period_end=True)
        if result["success"]:
            messages.success(request, "Your subscription ends with the current period.")
        else:
            messages.error(request, f"Cancelling failed: {result['error']}")
    return redirect("billing:pricing")
