from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from standardwebhooks.webhooks import Webhook

from patchbay.core.signing import (
    hmac_sha256_hex,
    sign_standard_webhook,
    verify_hmac_sha256,
    verify_standard_webhook,
)

SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-secret-bytes!").decode()
BODY = b'{"eventName": "email.delivered"}'
NOW = 1_700_000_000


def test_hmac_sha256_round_trip():
    signature = "sha256=" + hmac_sha256_hex("s3cret", BODY)
    assert verify_hmac_sha256("s3cret", BODY, signature, prefix="sha256=")
    assert not verify_hmac_sha256("other", BODY, signature, prefix="sha256=")
    assert not verify_hmac_sha256("s3cret", BODY, None)
    assert not verify_hmac_sha256("", BODY, signature, prefix="sha256=")


def test_standard_webhook_signature_matches_the_reference_library():
    reference = Webhook(SECRET).sign(
        "msg_1", datetime.fromtimestamp(NOW, tz=timezone.utc), BODY.decode()
    )
    assert sign_standard_webhook(SECRET, "msg_1", NOW, BODY) == reference


def test_verify_standard_webhook():
    signature = sign_standard_webhook(SECRET, "msg_1", NOW, BODY)
    verify = lambda **kw: verify_standard_webhook(  # noqa: E731
        **{
            "secret": SECRET,
            "message_id": "msg_1",
            "timestamp": str(NOW),
            "body": BODY,
            "signatures": signature,
            "tolerance": 300,
            "now": NOW,
            **kw,
        }
    )
    assert verify() is None
    assert verify(signatures=f"v1,bm9wZQ== {signature}") is None  # any listed signature may match
    assert verify(body=BODY + b" ") == "The webhook signature does not match."
    assert verify(message_id="msg_2") == "The webhook signature does not match."
    assert "tolerance" in verify(now=NOW + 301)
    assert "Missing" in verify(signatures="")
    assert "Unix time" in verify(timestamp="soon")
    assert "whsec_" in verify(secret="whsec_***not base64***")


@pytest.mark.parametrize("secret", [SECRET, SECRET.removeprefix("whsec_")])
def test_secret_prefix_is_optional(secret):
    assert sign_standard_webhook(secret, "m", NOW, BODY) == sign_standard_webhook(
        SECRET, "m", NOW, BODY
    )
