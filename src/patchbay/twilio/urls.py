from __future__ import annotations

from django.urls import path

from patchbay.twilio import verification_views
from patchbay.twilio.webhooks import InboundMessageView, StatusCallbackView

urlpatterns = [
    path("webhooks/twilio/status/", StatusCallbackView.as_view(), name="twilio-status-callback"),
    path("webhooks/twilio/inbound/", InboundMessageView.as_view(), name="twilio-inbound"),
    path("phone/verify/start/", verification_views.start, name="phone-verification-start"),
    path("phone/verify/check/", verification_views.check, name="phone-verification-check"),
]
