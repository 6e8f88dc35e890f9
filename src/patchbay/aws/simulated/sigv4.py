"""The simulated bucket's credentials, and the SigV4 signature of a POST policy.

Presigning signs with them (:mod:`~patchbay.aws.simulated.presigning`) and the
upload endpoint checks with them (:mod:`~patchbay.aws.simulated.policy`), as
S3 does with a real key. SigV4 is HMAC-SHA256, so no SDK is needed.
"""

from __future__ import annotations

import hashlib
import hmac

from django.utils.crypto import salted_hmac

from patchbay.core.signing import hmac_sha256_hex

ALGORITHM = "AWS4-HMAC-SHA256"
SIMULATION_ACCESS_KEY = "AKIAPATCHBAYSIMULATE"
SIMULATION_REGION = "us-east-1"


def simulation_secret_key() -> str:
    """The secret simulated forms are signed with: derived from ``SECRET_KEY``, never stored."""
    return salted_hmac("patchbay.aws.simulation-secret", "s3", algorithm="sha256").hexdigest()


def signing_key(secret_key: str, date: str, region: str, service: str = "s3") -> bytes:
    """SigV4's signing key: ``"AWS4" + secret`` HMAC-chained over date, region, service."""
    key = ("AWS4" + secret_key).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def policy_signature(policy: str, secret_key: str, date: str, region: str) -> str:
    """The ``x-amz-signature`` of a POST: hex HMAC-SHA256 of the base64 policy string."""
    return hmac_sha256_hex(signing_key(secret_key, date, region), policy)
