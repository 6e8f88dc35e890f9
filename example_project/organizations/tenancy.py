"""Whose request it is (patchbay's tenant resolver), and each organization's demo accounts.

``PATCHBAY_TENANT_RESOLVER`` names :func:`current_organization`:
``patchbay.tenancy.TenantMiddleware`` calls it on every request and runs the
view with its answer as the current tenant, so the Stripe, Twilio, Loops and
S3 demos work for the organization chosen in the header without passing it.
"""

from __future__ import annotations

import base64

from django.http import HttpRequest

from organizations.models import Organization
from patchbay.models import ExternalService

#: The session key of the organization the signed-in user works as.
SESSION_KEY = "organization"


def current_organization(request: HttpRequest) -> Organization | None:
    """The organization chosen in this session; None (the site's own accounts) otherwise."""
    if not request.user.is_authenticated:
        return None
    slug = request.session.get(SESSION_KEY)
    return Organization.objects.filter(slug=slug).first() if slug else None


def connect_demo_accounts(organization: Organization) -> None:
    """Give ``organization`` its own (simulated) provider accounts, unless it has them.

    What a real organization enters in its settings page, or staff in the
    admin: its own secrets, sender number and bucket. Simulation needs no real
    keys, but the webhook secrets are the organization's own, so the events
    simulation delivers to its endpoints are signed and checked with them.
    """
    slug = organization.slug
    loops_secret = base64.b64encode(f"{slug}-demo-loops-signing-secret".encode()).decode()
    accounts = {
        "stripe": ({"webhook_secret": f"whsec_demo_{slug}"}, {}),
        "twilio": (
            {"auth_token": f"demo-{slug}-auth-token"},
            {
                "account_sid": "AC" + slug.encode().hex().ljust(32, "0")[:32],
                "from_number": "+1415555" + str(1000 + organization.pk)[-4:],
            },
        ),
        "loops": ({"webhook_secret": f"whsec_{loops_secret}"}, {}),
        "aws": ({}, {"aws_s3_bucket_name": f"{slug}-files"}),
    }
    for provider, (credentials, options) in accounts.items():
        ExternalService.objects.get_or_create(
            tenant_key=str(organization.pk),
            provider=provider,
            defaults={
                "name": f"{organization.name}'s {provider}",
                "credentials": credentials,
                "options": options,
            },
        )
