"""Simulated delivery: the status callbacks Twilio would send, signed, to the real endpoint."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from patchbay.conf import conf
from patchbay.core.simulation import fake_id
from patchbay.models import SMS
from patchbay.twilio.signature import compute_signature
from patchbay.twilio.webhooks import signing_token
from patchbay.webhooks.loopback import deliver_webhook

DELIVERY_STATUSES = ("queued", "sent", "delivered")
_URL_NAME = "patchbay:twilio-status-callback"


def sign(url: str, params: dict[str, str], token: str, algorithm: str | None = None) -> str:
    """An ``X-Twilio-Signature``, as Twilio makes it (no SDK needed)."""
    return compute_signature(token, url, params, algorithm)


def deliver_status_callbacks(sms: SMS, request: HttpRequest | None = None) -> list[int]:
    """Deliver queued → sent → delivered for ``sms``; the endpoint's answers' status codes.

    Nothing is delivered when the endpoint is not mounted.
    """
    try:
        path = reverse(_URL_NAME)
    except NoReverseMatch:
        return []
    host = request.get_host() if request is not None else "localhost"
    scheme = request.scheme if request is not None else "http"
    url = (conf.PUBLIC_URL or f"{scheme}://{host}") + path
    token = signing_token(False) or ""  # simulating, there is always one
    account = fake_id("AC", 32)
    codes = []
    for status in DELIVERY_STATUSES:
        params = {
            "MessageSid": str(sms.external_id),
            "MessageStatus": status,
            "To": sms.to_number,
            "From": sms.from_number,
            "AccountSid": account,
        }
        response = deliver_webhook(
            _URL_NAME,
            urlencode(params).encode(),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": sign(url, params, token)},
            on_behalf_of=request,
        )
        codes.append(response.status_code)
    return codes
