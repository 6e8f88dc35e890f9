"""A provider endpoint on the shared pipeline, site-wide and per tenant, verified per tenant."""

from __future__ import annotations

import json

from django.urls import include, path

from patchbay.core.config import load_service_row
from patchbay.core.signing import verify_hmac_sha256
from patchbay.exceptions import WebhookVerificationError
from patchbay.webhooks import VerifiedDelivery
from patchbay.webhooks.views import WebhookView


class TenantHookView(WebhookView):
    provider = "pipeline"

    def verify(self, request, body):
        # The secret of this delivery's tenant (the site's on the site-wide URL).
        row = load_service_row("pipeline", self.tenant_key)
        secret = row.credentials.get("webhook_secret") if row else None
        if not secret or not verify_hmac_sha256(secret, body, request.headers.get("X-Signature")):
            raise WebhookVerificationError("Invalid signature.")
        data = json.loads(body)
        return VerifiedDelivery(event_id=data["id"], event_type=data["type"], payload=data)


urlpatterns = [
    path("hook/", TenantHookView.as_view(), name="pipeline-hook"),
    path("hook/<uuid:endpoint>/", TenantHookView.as_view(), name="pipeline-hook-tenant"),
    path("", include("tests.urls")),
]
