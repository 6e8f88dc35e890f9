"""Every provider's webhook endpoint live (not simulated), with its secret configured.

Import ``live_webhooks`` (and the three fixtures it uses) into a test module.
"""

from __future__ import annotations

import pytest

from tests.loops.helpers import live_loops
from tests.stripe.conftest import live_stripe
from tests.twilio.helpers import live_twilio

__all__ = ["live_loops", "live_stripe", "live_twilio", "live_webhooks"]

STRIPE_URL = "/integrations/webhooks/stripe/"
STATUS_URL = "/integrations/webhooks/twilio/status/"
INBOUND_URL = "/integrations/webhooks/twilio/inbound/"
LOOPS_URL = "/integrations/webhooks/loops/"


@pytest.fixture
def live_webhooks(live_stripe, live_twilio, live_loops):
    """Stripe, Twilio and Loops configured from settings; the settings."""
    return live_stripe
