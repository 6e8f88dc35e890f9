"""Shared pieces of the Loops tests."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from standardwebhooks.webhooks import Webhook

API = "https://app.loops.so/api/v1"
API_KEY = "loops-api-key-0123456789abcdef"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"loops-test-signing-secret-0123").decode()
TEMPLATES = {
    "password_reset": "tpl_reset",
    "login_code": "tpl_login",
    "team_membership": "tpl_team",
}


@pytest.fixture
def live_loops(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.LOOPS_API_KEY = API_KEY
    settings.LOOPS_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.LOOPS_TRANSACTIONAL_IDS = TEMPLATES
    settings.LOOPS_RETRY_BACKOFF = 0
    settings.PATCHBAY_MAX_RETRIES = 2
    return settings


def loops_payload(event_name, email="ada@example.com", **extra):
    return {
        "eventName": event_name,
        "eventTime": int(time.time()),
        "webhookSchemaVersion": "1.0.0",
        "contactIdentity": {"id": "cnt_1", "email": email, "userId": None},
        "email": {"id": "eml_1", "emailMessageId": "msg_1", "subject": "Reset your password"},
        **extra,
    }


def post_signed(
    client, payload, *, secret=WEBHOOK_SECRET, message_id=None, timestamp=None, headers=None
):
    """Signed by the ``standardwebhooks`` reference library, as Loops signs."""
    body = json.dumps(payload)
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    sent_at = timestamp if timestamp is not None else int(time.time())
    from datetime import datetime, timezone

    signature = Webhook(secret).sign(
        message_id, datetime.fromtimestamp(sent_at, tz=timezone.utc), body
    )
    signed = {
        "webhook-id": message_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": signature,
    }
    return client.post(
        "/integrations/webhooks/loops/",
        data=body,
        content_type="application/json",
        headers={**signed, **(headers or {})},
    )
