from __future__ import annotations

from django.urls import path

from patchbay.views import LazyView

urlpatterns = [
    path(
        "webhooks/stripe/",
        LazyView("patchbay.stripe.webhooks.StripeWebhookView"),
        name="stripe-webhook",
    ),
    path(
        "stripe/simulated-checkout/<str:token>/",
        LazyView("patchbay.stripe.views.simulated_checkout"),
        name="stripe-simulated-checkout",
    ),
]
