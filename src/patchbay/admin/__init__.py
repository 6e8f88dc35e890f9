"""patchbay's Django admin: services with write-only credentials, read-only history.

Importing this package registers every admin; the classes are exported so a
project can unregister one and register its own subclass.
"""

from __future__ import annotations

from patchbay.admin.api import APITokenAdmin
from patchbay.admin.aws import UploadAdmin
from patchbay.admin.dashboard import DashboardAdmin
from patchbay.admin.logs import IntegrationLogAdmin
from patchbay.admin.loops import (
    EmailEventAdmin,
    EmailSuppressionAdmin,
    LoginTokenAdmin,
    OutboundEmailAdmin,
)
from patchbay.admin.oauth2 import OAuth2TokenAdmin
from patchbay.admin.services import ExternalServiceAdmin, HealthCheckAdmin
from patchbay.admin.stripe import StripeCustomerAdmin, StripeSubscriptionAdmin
from patchbay.admin.twilio import PhoneOptOutAdmin, SMSAdmin
from patchbay.admin.verification import PhoneVerificationAdmin
from patchbay.admin.webhooks import WebhookEventAdmin

__all__ = [
    "APITokenAdmin",
    "DashboardAdmin",
    "EmailEventAdmin",
    "EmailSuppressionAdmin",
    "ExternalServiceAdmin",
    "HealthCheckAdmin",
    "IntegrationLogAdmin",
    "LoginTokenAdmin",
    "OAuth2TokenAdmin",
    "OutboundEmailAdmin",
    "PhoneOptOutAdmin",
    "PhoneVerificationAdmin",
    "SMSAdmin",
    "StripeCustomerAdmin",
    "StripeSubscriptionAdmin",
    "UploadAdmin",
    "WebhookEventAdmin",
]
