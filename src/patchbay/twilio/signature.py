"""Twilio's webhook signature scheme (``X-Twilio-Signature``), without the SDK.

Twilio signs the full URL it requested followed by each POST parameter's
name and value, sorted by name, with HMAC-SHA1 under the auth token (or
HMAC-SHA256 under a SharedKey secret), in base64. The SDK's
``RequestValidator`` is used when the SDK is installed; this one lets
simulation sign its status callbacks and the endpoint verify them in a
project that installed no ``twilio`` package.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

HMAC_SHA1 = "HMAC_SHA1"
HMAC_SHA256 = "HMAC_SHA256"
_DIGESTS = {HMAC_SHA1: hashlib.sha1, HMAC_SHA256: hashlib.sha256}


def signature_algorithm(settings_header: str | None) -> str:
    """The algorithm ``X-Twilio-Webhooks-Signature-Settings`` names; HMAC_SHA1 without one."""
    for part in (settings_header or "").split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "algorithm" and value.strip():
            return value.strip()
    return HMAC_SHA1


def _values(params: Mapping[str, str] | object, name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)  # a QueryDict: every value of a repeated name
    if callable(getlist):
        return [str(value) for value in getlist(name)]
    return [str(params[name])]  # type: ignore[index]


def compute_signature(
    token: str, url: str, params: Mapping[str, str], algorithm: str | None = None
) -> str:
    """The ``X-Twilio-Signature`` of a POST of ``params`` to ``url``.

    Raises ``ValueError`` for an algorithm Twilio does not sign with.
    """
    digest = _DIGESTS.get((algorithm or HMAC_SHA1).upper())
    if digest is None:
        raise ValueError(f"Unsupported webhook signature algorithm: {algorithm}")
    signed = url + "".join(
        name + value for name in sorted(set(params)) for value in sorted(set(_values(params, name)))
    )
    mac = hmac.new(token.encode(), signed.encode(), digest)
    return base64.b64encode(mac.digest()).decode()


def _with_and_without_port(url: str) -> list[str]:
    # Twilio signs the URL with or without the default port depending on its side.
    parts = urlsplit(url)
    if parts.port:
        return [url, parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]).geturl()]
    port = 443 if parts.scheme == "https" else 80
    return [url, parts._replace(netloc=f"{parts.netloc}:{port}").geturl()]


def validate(
    token: str,
    url: str,
    params: Mapping[str, str],
    signature: str,
    algorithm: str | None = None,
) -> bool:
    """Whether ``signature`` signs a POST of ``params`` to ``url`` (form-encoded bodies)."""
    if (algorithm or HMAC_SHA1).upper() not in _DIGESTS:
        return False
    return any(
        hmac.compare_digest(compute_signature(token, candidate, params, algorithm), signature)
        for candidate in _with_and_without_port(url)
    )
