from __future__ import annotations

from django.urls import path

from patchbay.views import LazyView

urlpatterns = [
    path(
        "webhooks/stripe/",
        LazyView("patchbay.stripe.webhooks.StripeWebhookView"),
        name="stripe-webhook",
    ),
    # A tenant's endpoint: its ExternalService row's webhook_endpoint names it.
    path(
        "webhooks/stripe/<uuid:endpoint>/",
        LazyView("patchbay.stripe.webhooks.StripeWebhookView"),
        name="stripe-webhook-tenant",
    ),
    path(
        "stripe/simulated-checkout/<str:token>/",
        LazyView("patchbay.stripe.views.simulated_checkout"),
        name="stripe-simulated-checkout",
    ),
]
