"""The simulated Checkout page, served only while simulating."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from patchbay.core.simulation import should_simulate
from patchbay.exceptions import ServiceError
from patchbay.stripe import simulation
from patchbay.stripe.client import StripeClient
from patchbay.tenancy import use_tenant

UNDELIVERABLE = (
    "DEBUG is off, so the endpoint refuses events signed with patchbay's public simulation "
    "secret. Set STRIPE_WEBHOOK_SECRET: the simulated Checkout signs with it."
)


@login_not_required  # stands in for Stripe's page, which needs no login on this site
def simulated_checkout(request: HttpRequest, token: str) -> HttpResponse:
    """Shows the session; "Pay" delivers Stripe's events to the webhook, then redirects.

    A session is paid once: once its events are processed, the page says so
    (409 to a second "Pay") and links to the success URL; a "Pay" after a
    failed delivery delivers the same events again. A subscription its user
    or customer already has one of is not sold (409, a link to the cancel URL).
    """
    if not should_simulate():
        raise Http404("The simulated Checkout exists only while simulating.")
    try:
        session, tenant_key = simulation.load_checkout_session(token)
    except signing.BadSignature as exc:
        raise Http404("Unknown or expired checkout session.") from exc
    # The page is site-wide; the session says whose it is, and plays that tenant's Stripe.
    with use_tenant(tenant_key):
        return _checkout_page(request, session, tenant_key)


def _checkout_page(request: HttpRequest, session: dict[str, Any], tenant_key: str) -> HttpResponse:
    success_url = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
    context = {
        "session": session,
        "price": (session.get("line_items") or [{}])[0].get("price"),
        "success_url": success_url,
    }
    if simulation.is_completed(session):
        # As real Checkout: a completed session cannot be paid again (Back, then Pay).
        context["completed"] = True
        status = 409 if request.method == "POST" else 200
        return render(request, "patchbay/stripe/simulated_checkout.html", context, status=status)
    if request.method == "POST" and request.POST.get("action") != "pay":
        return HttpResponseRedirect(session["cancel_url"])
    if simulation.sells_a_second_subscription(session):
        # Opened in a second tab before the first was paid: nothing is charged, as on Stripe's
        # Checkout limited to one subscription per customer.
        context["already_subscribed"] = True
        status = 409 if request.method == "POST" else 200
        return render(request, "patchbay/stripe/simulated_checkout.html", context, status=status)
    if request.method != "POST":
        return render(request, "patchbay/stripe/simulated_checkout.html", context)
    secret = StripeClient().webhook_verifier().signing_secret
    if secret is None:
        # DEBUG is off (a staging site): the public simulation secret would be refused.
        context["undeliverable"] = UNDELIVERABLE
        return render(request, "patchbay/stripe/simulated_checkout.html", context, status=503)
    try:
        responses = simulation.deliver_events(
            simulation.checkout_events(session), secret, request, tenant=tenant_key
        )
    except ServiceError as exc:  # the webhook endpoint is not mounted
        context["errors"] = [exc.message]
        return render(request, "patchbay/stripe/simulated_checkout.html", context, status=502)
    failed = [response for response in responses if response.status_code != 200]
    if failed:
        context["errors"] = [response.content.decode(errors="replace") for response in failed]
        return render(request, "patchbay/stripe/simulated_checkout.html", context, status=502)
    return HttpResponseRedirect(success_url)
