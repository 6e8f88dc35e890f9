from __future__ import annotations

from django.urls import path

from patchbay.views import LazyView

urlpatterns = [
    path(
        "webhooks/loops/",
        LazyView("patchbay.loops.webhooks.LoopsWebhookView"),
        name="loops-webhook",
    ),
    # A tenant's endpoint: its ExternalService row's webhook_endpoint names it.
    path(
        "webhooks/loops/<uuid:endpoint>/",
        LazyView("patchbay.loops.webhooks.LoopsWebhookView"),
        name="loops-webhook-tenant",
    ),
    path(
        "login/sign-in.js",
        LazyView("patchbay.loops.views.magic_link_script"),
        name="magic-link-script",
    ),
    path(
        "login/<str:token>/",
        LazyView("patchbay.loops.views.magic_link_login"),
        name="magic-link-login",
    ),
]
