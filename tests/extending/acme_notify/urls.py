"""Mount with ``path("acme-notify/", include("<your package>.acme_notify.urls"))``."""

from __future__ import annotations

from django.urls import path

from tests.extending.acme_notify.webhooks import AcmeNotifyWebhookView

app_name = "acme_notify"

urlpatterns = [
    path("webhook/", AcmeNotifyWebhookView.as_view(), name="webhook"),
]
