from __future__ import annotations

from django.urls import path

from patchbay.views import LazyView

urlpatterns = [
    path(
        "webhooks/twilio/status/",
        LazyView("patchbay.twilio.webhooks.StatusCallbackView"),
        name="twilio-status-callback",
    ),
    path(
        "webhooks/twilio/inbound/",
        LazyView("patchbay.twilio.webhooks.InboundMessageView"),
        name="twilio-inbound",
    ),
    # A tenant's endpoints: its ExternalService row's webhook_endpoint names them.
    path(
        "webhooks/twilio/status/<uuid:endpoint>/",
        LazyView("patchbay.twilio.webhooks.StatusCallbackView"),
        name="twilio-status-callback-tenant",
    ),
    path(
        "webhooks/twilio/inbound/<uuid:endpoint>/",
        LazyView("patchbay.twilio.webhooks.InboundMessageView"),
        name="twilio-inbound-tenant",
    ),
    path(
        "phone/verify/start/",
        LazyView("patchbay.twilio.verification_views.start"),
        name="phone-verification-start",
    ),
    path(
        "phone/verify/check/",
        LazyView("patchbay.twilio.verification_views.check"),
        name="phone-verification-check",
    ),
]
