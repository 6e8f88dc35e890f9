"""A minimal provider endpoint on the shared pipeline, for the pipeline's tests."""

from __future__ import annotations

import json

from django.urls import include, path

from patchbay.core.signing import verify_hmac_sha256
from patchbay.exceptions import WebhookVerificationError
from patchbay.webhooks import VerifiedDelivery
from patchbay.webhooks.views import WebhookView

SECRET = "pipeline-secret"


class PipelineWebhookView(WebhookView):
    provider = "pipeline"

    def verify(self, request, body):
        if not verify_hmac_sha256(SECRET, body, request.headers.get("X-Signature")):
            raise WebhookVerificationError("Invalid signature.")
        data = json.loads(body)  # a bad body after a good signature must still be a 400
        return VerifiedDelivery(event_id=data["id"], event_type=data["type"], payload=data)


urlpatterns = [
    path("hook/", PipelineWebhookView.as_view(), name="pipeline-hook"),
    path("", include("tests.urls")),
]
