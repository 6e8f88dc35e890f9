"""Two demo organizations, each with its own services: switch between them, compare them.

The demos (billing, messaging, accounts, files) are the same views for
everyone; the organization chosen here is the current tenant while they run
(``TenantMiddleware``), so each organization's checkouts, messages, emails
and uploads use its own accounts and land in its own rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from organizations.models import Organization
from organizations.tenancy import SESSION_KEY, connect_demo_accounts
from patchbay.models import (
    SMS,
    EmailEvent,
    ExternalService,
    IntegrationLog,
    StripeSubscription,
    Upload,
    WebhookEvent,
)
from patchbay.tenancy import webhook_path

#: The endpoints each organization registers at its providers.
WEBHOOKS = [
    ("Stripe", "stripe-webhook"),
    ("Twilio status callbacks", "twilio-status-callback"),
    ("Twilio inbound messages", "twilio-inbound"),
    ("Loops", "loops-webhook"),
]


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """Work as the organization posted (``slug``), or as the site itself (empty)."""
    organization = Organization.objects.filter(slug=request.POST.get("slug") or "").first()
    if organization is None:
        request.session.pop(SESSION_KEY, None)
    else:
        connect_demo_accounts(organization)
        request.session[SESSION_KEY] = organization.slug
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/"
    return redirect(target)


# Webhook URLs and logs tell where to post and what happened: staff only, as the home page's
# configuration report.
@staff_member_required
def overview(request: HttpRequest) -> HttpResponse:
    """Each organization's services, webhook URLs, rows and latest calls, side by side."""
    columns = []
    for organization in Organization.objects.all():
        connect_demo_accounts(organization)
        columns.append(_column(request, organization))
    return render(request, "organizations/overview.html", {"columns": columns})


def _column(request: HttpRequest, organization: Organization) -> dict[str, Any]:
    services = ExternalService.objects.for_tenant(organization)
    return {
        "organization": organization,
        "services": [
            {
                "provider": service.provider,
                "name": service.name,
                "secrets": service.credential_names(),
            }
            for service in services
        ],
        "webhooks": [
            (label, request.build_absolute_uri(webhook_path(url_name, organization)))
            for label, url_name in WEBHOOKS
        ],
        "counts": {
            "Webhook events": WebhookEvent.objects.for_tenant(organization).count(),
            "Subscriptions": StripeSubscription.objects.for_tenant(organization).count(),
            "SMS messages": SMS.objects.for_tenant(organization).count(),
            "Email events": EmailEvent.objects.for_tenant(organization).count(),
            "Uploads": Upload.objects.for_tenant(organization).count(),
        },
        "logs": list(IntegrationLog.objects.for_tenant(organization).order_by("-id")[:10]),
    }
