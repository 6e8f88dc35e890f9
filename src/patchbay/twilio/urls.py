from __future__ import annotations

from django.urls import path

from patchbay.twilio.webhooks import InboundMessageView, StatusCallbackView

urlpatterns = [
    path("webhooks/twilio/status/", StatusCallbackView.as_view(), name="twilio-status-callback"),
    path("webhooks/twilio/inbound/", InboundMessageView.as_view(), name="twilio-inbound"),
]
