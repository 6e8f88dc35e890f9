"""Helpers for testing a project that uses patchbay.

Nothing here needs pytest: Django ``TestCase`` users import the context
managers and webhook signers directly. pytest users also get fixtures by
adding ``pytest_plugins = ["patchbay.testing"]`` to their root ``conftest.py``.

PYTEST_DONT_REWRITE: this package holds no assertions, and the marker lets a
conftest import it before naming it in ``pytest_plugins`` without a warning.
"""

from __future__ import annotations

from patchbay.core.simulation import Outbox, SimulatedCall, outbox
from patchbay.testing.aws import post_presigned_form
from patchbay.testing.loops import loops_event, post_loops_event, sign_loops_webhook
from patchbay.testing.simulation import live, reset_state, simulate
from patchbay.testing.stripe import post_stripe_event, sign_stripe_payload, stripe_event
from patchbay.testing.twilio import post_twilio_inbound, post_twilio_status, sign_twilio_request
from patchbay.testing.webhooks import encode_payload, post_signed_webhook, sign_hmac_sha256

# Loaded by pytest when this package is named in ``pytest_plugins``; inert otherwise.
pytest_plugins = ["patchbay.testing.fixtures"]

__all__ = [
    "Outbox",
    "SimulatedCall",
    "encode_payload",
    "live",
    "loops_event",
    "outbox",
    "post_loops_event",
    "post_presigned_form",
    "post_signed_webhook",
    "post_stripe_event",
    "post_twilio_inbound",
    "post_twilio_status",
    "reset_state",
    "sign_hmac_sha256",
    "sign_loops_webhook",
    "sign_stripe_payload",
    "sign_twilio_request",
    "simulate",
    "stripe_event",
]
