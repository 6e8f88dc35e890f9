"""Simulated delivery: the status callbacks Twilio would send, signed, to the real endpoint."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest

from patchbay.conf import conf
from patchbay.core.simulation import fake_id
from patchbay.core.urls import is_mounted, patchbay_path
from patchbay.models import SMS
from patchbay.tenancy import webhook_path
from patchbay.twilio.signature import compute_signature
from patchbay.twilio.webhooks import signing_token
from patchbay.webhooks.loopback import deliver_webhook

DELIVERY_STATUSES = ("queued", "sent", "delivered")
_URL_NAME = "patchbay:twilio-status-callback"


def sign(url: str, params: dict[str, str], token: str, algorithm: str | None = None) -> str:
    """An ``X-Twilio-Signature``, as Twilio makes it (no SDK needed)."""
    return compute_signature(token, url, params, algorithm)


def require_status_endpoint() -> None:
    """Raise :exc:`~patchbay.exceptions.ServiceError` (``urls_not_mounted``) if callbacks can't go.

    Without the endpoint a simulated message would stay ``queued`` forever.
    """
    patchbay_path(_URL_NAME)


def deliver_status_callbacks(sms: SMS, request: HttpRequest | None = None) -> list[int]:
    """Deliver queued → sent → delivered for ``sms``; the endpoint's answers' status codes.

    Nothing is delivered when the endpoint is not mounted (the tracked send
    refuses to go ahead then, see :func:`require_status_endpoint`), nor when
    there is no secret the endpoint would accept (``DEBUG`` off without
    ``TWILIO_AUTH_TOKEN``: the message stays ``queued``).
    """
    # As Twilio would: to the endpoint of the message's tenant, signed with its token.
    tenant = sms.tenant_key
    token = signing_token(False, tenant=tenant)
    if not is_mounted(_URL_NAME) or token is None:
        return []
    path = webhook_path(_URL_NAME.removeprefix("patchbay:"), tenant)
    host = request.get_host() if request is not None else "localhost"
    scheme = request.scheme if request is not None else "http"
    url = (conf.PUBLIC_URL or f"{scheme}://{host}") + path
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
            tenant=tenant,
        )
        codes.append(response.status_code)
    return codes
