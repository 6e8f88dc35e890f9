from __future__ import annotations

import pytest

from patchbay.stripe.client import _sdk_client
from patchbay.testing import post_stripe_event, sign_stripe_payload, stripe_event

API = "https://api.stripe.com/v1"
API_KEY = "sk_test_patchbay_0123456789abcdef"
WEBHOOK_SECRET = "whsec_test_patchbay_secret"


@pytest.fixture
def live_stripe(settings):
    """Stripe configured from settings, live (not simulated), no SDK retries unless asked."""
    settings.PATCHBAY_SIMULATE = False
    settings.STRIPE_API_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PATCHBAY_MAX_RETRIES = 0
    _sdk_client.cache_clear()
    yield settings
    _sdk_client.cache_clear()


def stripe_error(kind, message, status, code=None):
    error = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"json": {"error": error}, "status": status}


def sign(payload, secret=WEBHOOK_SECRET, timestamp=None):
    return sign_stripe_payload(payload, secret, timestamp)


def make_event(event_type, obj, *, created=None, event_id=None):
    return stripe_event(event_type, obj, created=created, event_id=event_id)


def post_event(client, event, secret=WEBHOOK_SECRET, timestamp=None, **headers):
    return post_stripe_event(client, event, secret=secret, timestamp=timestamp, headers=headers)
