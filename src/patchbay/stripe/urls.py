from __future__ import annotations

from django.urls import path

from patchbay.stripe import views
from patchbay.stripe.webhooks import StripeWebhookView

urlpatterns = [
    path("webhooks/stripe/", StripeWebhookView.as_view(), name="stripe-webhook"),
    path(
        "stripe/simulated-checkout/<str:token>/",
        views.simulated_checkout,
        name="stripe-simulated-checkout",
    ),
]
