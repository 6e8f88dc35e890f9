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
