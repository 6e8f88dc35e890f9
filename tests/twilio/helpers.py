"""Shared pieces of the Twilio tests (not a conftest: other modules here add their own)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from patchbay.twilio.client import _sdk_client
from patchbay.twilio.simulation import sign

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
SHARED_KEY = "twilio-shared-key-fedcba9876543210"
FROM = "+14155550100"
TO = "+14155552671"
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
STATUS_URL = "http://testserver/integrations/webhooks/twilio/status/"
INBOUND_URL = "http://testserver/integrations/webhooks/twilio/inbound/"


@pytest.fixture
def live_twilio(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_PHONE_NUMBER = FROM
    settings.PATCHBAY_MAX_RETRIES = 0
    _sdk_client.cache_clear()
    yield settings
    _sdk_client.cache_clear()


def message_json(sid="SM" + "1" * 32, status="queued", to=TO, error_code=None, error_message=None):
    return {
        "sid": sid,
        "status": status,
        "to": to,
        "from": FROM,
        "body": "hi",
        "account_sid": ACCOUNT_SID,
        "error_code": error_code,
        "error_message": error_message,
    }


def twilio_error(code, message, status=400):
    return {
        "json": {"code": code, "message": message, "more_info": "", "status": status},
        "status": status,
    }


def post_signed(client, url, params, *, token=AUTH_TOKEN, signature=None, headers=None):
    return client.post(
        url.removeprefix("http://testserver"),
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature or sign(url, params, token), **(headers or {})},
    )
