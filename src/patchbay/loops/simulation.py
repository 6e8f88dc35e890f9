"""Simulated delivery events, signed as Loops signs them, sent to the real endpoint."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from patchbay.core.signing import standard_webhook_headers
from patchbay.core.urls import is_mounted
from patchbay.loops.webhooks import webhook_secret
from patchbay.tenancy import current_tenant_key
from patchbay.webhooks.loopback import deliver_webhook

_URL_NAME = "patchbay:loops-webhook"


def event_payload(event_name: str, email: str, transactional_id: str = "") -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventName": event_name,
        "eventTime": int(time.time()),
        "webhookSchemaVersion": "1.0.0",
        "contactIdentity": {"id": f"sim_{uuid.uuid4().hex[:12]}", "email": email, "userId": None},
        "email": {
            "id": f"sim_{uuid.uuid4().hex[:12]}",
            "emailMessageId": uuid.uuid4().hex,
            "subject": "(simulated)",
        },
    }
    if transactional_id:
        payload.update(sourceType="transactional", transactionalId=transactional_id)
    return payload


def deliver(payload: dict[str, Any]) -> int | None:
    """Sign ``payload`` and deliver it to ``patchbay:loops-webhook``; the answer's status.

    None when the endpoint is not mounted, or when there is no secret it would
    accept (``DEBUG`` off without ``LOOPS_WEBHOOK_SECRET``): the email itself was sent.
    """
    # As Loops would: to the current tenant's endpoint, signed with its secret.
    tenant = current_tenant_key()
    secret = webhook_secret(tenant)
    if not is_mounted(_URL_NAME) or secret is None:
        return None
    body = json.dumps(payload).encode()
    headers = standard_webhook_headers(secret, body)
    response = deliver_webhook(_URL_NAME, body, headers=headers, tenant=tenant)
    return response.status_code


def deliver_transactional_events(email: str, transactional_id: str) -> list[int | None]:
    """What Loops reports after a transactional send: sent, then delivered."""
    return [
        deliver(event_payload(name, email, transactional_id))
        for name in ("transactional.email.sent", "email.delivered")
    ]
