"""Simulated delivery: the status callbacks Twilio would send, signed, to the real endpoint.

With :setting:`PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS` the callbacks arrive
over a few seconds, as Twilio's do, from a daemon thread started once the
send's transaction commits. A thread, not a delayed task: the callbacks
imitate Twilio, which posts on its own clock whether or not the project runs
a worker, and Django's built-in task backends do not run tasks later
(``run_after``), so a delayed task would need an engine the project may not
have. The thread dies with the process: a callback not yet delivered when the
server stops never arrives, and the message stays where it was, as it would
if Twilio's callback were lost.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlencode

from django.db import close_old_connections, transaction
from django.http import HttpRequest

from patchbay.conf import conf
from patchbay.core.recording import stored_together
from patchbay.core.simulation import fake_id
from patchbay.core.urls import patchbay_path
from patchbay.exceptions import ServiceError
from patchbay.models import SMS
from patchbay.twilio.signature import compute_signature
from patchbay.twilio.webhooks import signing_token
from patchbay.webhooks.loopback import Endpoint

DELIVERY_STATUSES = ("queued", "sent", "delivered")
_URL_NAME = "patchbay:twilio-status-callback"
logger = logging.getLogger("patchbay.twilio")


def sign(url: str, params: dict[str, str], token: str, algorithm: str | None = None) -> str:
    """An ``X-Twilio-Signature``, as Twilio makes it (no SDK needed)."""
    return compute_signature(token, url, params, algorithm)


def require_status_endpoint() -> None:
    """Raise :exc:`~patchbay.exceptions.ServiceError` (``urls_not_mounted``) if callbacks can't go.

    Without the endpoint a simulated message would stay ``queued`` forever.
    """
    patchbay_path(_URL_NAME)


def callback_delays() -> tuple[float, float, float]:
    """The waits before the queued, sent and delivered callbacks, in seconds.

    A value the system check ``patchbay.E039`` reports is read as 0 (at once):
    a misconfigured demo still delivers.
    """
    try:
        return conf.TWILIO_SIMULATED_CALLBACK_DELAYS
    except (TypeError, ValueError):
        return (0.0, 0.0, 0.0)


def deliver_status_callbacks(sms: SMS, request: HttpRequest | None = None) -> list[int]:
    """Deliver queued → sent → delivered for ``sms``; the endpoint's answers' status codes.

    Without delays (:setting:`PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS` 0) they
    are delivered before this returns. With delays they are delivered by a
    background thread once the current transaction commits, and this returns
    ``[]`` at once: the send does not wait for them.

    Nothing is delivered when the endpoint is not mounted (the tracked send
    refuses to go ahead then, see :func:`require_status_endpoint`), nor when
    there is no secret the endpoint would accept (``DEBUG`` off without
    ``TWILIO_AUTH_TOKEN``: the message stays ``queued``).
    """
    # As Twilio would: to the endpoint of the message's tenant, signed with its token.
    tenant = sms.tenant_key
    token = signing_token(False, tenant=tenant)
    if token is None:
        return []
    try:
        # Found once for the three callbacks: the path (a query for a tenant's) and its view.
        endpoint = Endpoint(_URL_NAME, on_behalf_of=request, tenant=tenant)
    except ServiceError:  # urls_not_mounted
        return []
    url = (conf.PUBLIC_URL + endpoint.path) if conf.PUBLIC_URL else endpoint.url
    account = fake_id("AC", 32)
    callbacks = [
        (
            {
                "MessageSid": str(sms.external_id),
                "MessageStatus": status,
                "To": sms.to_number,
                "From": sms.from_number,
                "AccountSid": account,
            },
            delay,
        )
        for status, delay in zip(DELIVERY_STATUSES, callback_delays(), strict=True)
    ]

    def post(params: dict[str, str]) -> int:
        response = endpoint.post(
            urlencode(params).encode(),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": sign(url, params, token)},
        )
        return response.status_code

    if not any(delay > 0 for _params, delay in callbacks):
        with stored_together():  # the three deliveries' log rows in one round trip
            return [post(params) for params, _delay in callbacks]

    def deliver_later() -> None:
        try:
            for params, delay in callbacks:
                time.sleep(delay)
                post(params)
        except Exception:  # a thread's exception would be printed and lost: log it instead
            logger.exception("A simulated status callback of SMS %s failed.", sms.pk)
        finally:
            close_old_connections()  # this thread's own connection, not the server's

    def start() -> None:
        threading.Thread(
            target=deliver_later, name=f"patchbay-sms-{sms.pk}-callbacks", daemon=True
        ).start()

    # After the commit: the endpoint must find the row the thread's connection can see.
    transaction.on_commit(start)
    return []
