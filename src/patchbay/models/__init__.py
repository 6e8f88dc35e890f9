"""patchbay's models, importable from ``patchbay.models``."""

from __future__ import annotations

from patchbay.models.api import APIToken
from patchbay.models.dashboard import Dashboard, LogRollup
from patchbay.models.email import EmailEvent, EmailSuppression, OutboundEmail
from patchbay.models.login import LoginToken
from patchbay.models.logs import IntegrationLog
from patchbay.models.oauth2 import OAuth2Token
from patchbay.models.services import ExternalService, HealthCheck
from patchbay.models.sms import SMS, PhoneOptOut
from patchbay.models.stripe import StripeCustomer, StripeSubscription
from patchbay.models.upload import Upload
from patchbay.models.verification import PhoneVerification
from patchbay.models.webhooks import WebhookEvent

__all__ = [
    "SMS",
    "APIToken",
    "Dashboard",
    "EmailEvent",
    "EmailSuppression",
    "ExternalService",
    "HealthCheck",
    "IntegrationLog",
    "LogRollup",
    "LoginToken",
    "OAuth2Token",
    "OutboundEmail",
    "PhoneOptOut",
    "PhoneVerification",
    "StripeCustomer",
    "StripeSubscription",
    "Upload",
    "WebhookEvent",
]
