"""The example's home page: what patchbay is, each service's state and the demos."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse

from patchbay.core.simulation import should_simulate
from patchbay.status import status_report


@dataclass(frozen=True)
class Demo:
    """A page of the example showing one service at work, linked from the home page."""

    service: str
    title: str
    url_name: str
    description: str
    # Who may open it, said next to its link so nobody meets a sign-in page unwarned:
    # "" (anyone), SIGN_IN (any account) or STAFF (the admin's login).
    access: str = ""


SIGN_IN = "sign-in required"
STAFF = "staff only"


# Each service integration adds its demo page here when it lands.
DEMOS: list[Demo] = [
    Demo(
        service="Stripe",
        title="Subscriptions with Stripe Checkout",
        url_name="billing:pricing",
        access=SIGN_IN,
        description="Pricing page → Checkout → webhooks → the user's subscription state; "
        "cancel at period end.",
    ),
    Demo(
        service="Twilio",
        title="Send an SMS and watch it get delivered",
        url_name="messaging:send",
        access=SIGN_IN,
        description="Form → send_sms → status callbacks → a page polling the message's "
        "status until it is final.",
    ),
    Demo(
        service="Twilio",
        title="Verify your phone number",
        url_name="messaging:verify",
        description="Number → one-time code by SMS → check, through patchbay's rate-limited "
        "verification endpoints.",
    ),
    Demo(
        service="Loops",
        title="Forgot password",
        url_name="accounts:password-reset",
        description="Django's password reset, emailed with a Loops template through "
        "send_password_reset_email → set a new password.",
    ),
    Demo(
        service="Loops",
        title="Sign in with a link",
        url_name="accounts:sign-in-link",
        description="Email → send_login_link_to_address → a one-time link, hashed and expiring → "
        "signed in.",
    ),
    Demo(
        service="S3",
        title="Upload files straight to the bucket",
        url_name="files:upload",
        access=SIGN_IN,
        description="Presigned POST → the browser sends the file to S3/R2 with a progress bar "
        "→ confirmed from the bucket's own facts → private links, delete.",
    ),
    Demo(
        service="OAuth2",
        title="Connect a service",
        url_name="connections:connect",
        access=SIGN_IN,
        description="Connect → the provider's consent page (simulated) → callback → the stored "
        "connection's expiry and scopes → a call with the token → disconnect.",
    ),
    Demo(
        service="Tenants",
        title="Two organizations, each with its own services",
        url_name="organizations:overview",
        access=STAFF,
        description="Choose Acme or Globex in the header → every demo uses that organization's "
        "accounts → each one's services, webhook URLs, rows and calls, side by side.",
    ),
]

# Services named on the home page as "demo to come" until their Demo is in DEMOS.
PLANNED_SERVICES: list[str] = []


def home(request: HttpRequest) -> HttpResponse:
    # What is configured where (and what is missing) tells an attacker where to look: staff only.
    staff = bool(getattr(request.user, "is_staff", False))
    context = {
        "simulating": should_simulate(),
        "staff": staff,
        "services": status_report() if staff else [],
        # Reversed here so that a demo whose URL is missing fails loudly, never as a dead link.
        "demos": [(demo, reverse(demo.url_name)) for demo in DEMOS],
        "planned_services": [
            name for name in PLANNED_SERVICES if name not in {demo.service for demo in DEMOS}
        ],
    }
    return render(request, "home.html", context)


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Browsers ask for /favicon.ico on their own, whatever base.html links: send them to the
    # static file rather than to a 404 in the console and the server's log.
    return HttpResponseRedirect(static("example/favicon.ico"))
