"""Presigned forms and URLs of the simulated bucket, pointing at patchbay's own endpoints.

A simulated presigned POST is made as boto3 makes it, with the simulation
credentials (:mod:`~patchbay.aws.simulated.sigv4`), so its policy and
signature are exactly what S3 would check; the simulated upload endpoint then
checks them as S3 does (:mod:`~patchbay.aws.simulated.policy`).
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from django.core import signing

from patchbay.aws.simulated.sigv4 import (
    ALGORITHM,
    SIMULATION_ACCESS_KEY,
    SIMULATION_REGION,
    policy_signature,
    simulation_secret_key,
)
from patchbay.conf import conf
from patchbay.core.urls import patchbay_path

_OBJECT_SALT = "patchbay.aws.simulated-object"


def presigned_post(
    bucket: str,
    key: str,
    expiration: int,
    conditions: list[Any] | None,
    fields: dict[str, Any] | None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A presigned POST aimed at ``patchbay:s3-simulated-upload``, signed as boto3 signs it.

    The same fields, conditions and SigV4 signature as boto3's
    ``generate_presigned_post`` with the simulation credentials (the test
    suite compares them), made without boto3: simulation needs no SDK.
    """
    signed_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    timestamp = signed_at.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{SIMULATION_ACCESS_KEY}/{timestamp[:8]}/{SIMULATION_REGION}/s3/aws4_request"
    # boto3's order: the caller's conditions, the bucket, the key, then the signature's own.
    key_condition: Any = (
        ["starts-with", "$key", key.removesuffix("${filename}")]
        if key.endswith("${filename}")
        else {"key": key}
    )
    policy_conditions = [
        *(conditions or []),
        {"bucket": bucket},
        key_condition,
        {"x-amz-algorithm": ALGORITHM},
        {"x-amz-credential": credential},
        {"x-amz-date": timestamp},
    ]
    expires = signed_at + timedelta(seconds=int(expiration))
    document = {
        "expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conditions": policy_conditions,
    }
    policy = base64.b64encode(json.dumps(document).encode()).decode()
    form_fields = {
        **(fields or {}),
        "key": key,
        "x-amz-algorithm": ALGORITHM,
        "x-amz-credential": credential,
        "x-amz-date": timestamp,
        "policy": policy,
        "x-amz-signature": policy_signature(
            policy, simulation_secret_key(), timestamp[:8], SIMULATION_REGION
        ),
    }
    url = conf.PUBLIC_URL + patchbay_path("patchbay:s3-simulated-upload", kwargs={"bucket": bucket})
    return {"post_url": url, "form_fields": form_fields}


def object_url(
    bucket: str,
    key: str,
    expiration: int,
    *,
    content_type: str | None = None,
    content_disposition: str | None = None,
    etag: str | None = None,
) -> str:
    """A URL of ``patchbay:s3-simulated-object`` serving the object until it expires.

    ``content_type`` and ``content_disposition`` override the object's, as S3's
    ``response-content-type`` and ``response-content-disposition`` do; with
    ``etag`` the bucket answers 412 once the object has another ETag.
    """
    grant: dict[str, Any] = {"b": bucket, "k": key, "e": int(time.time()) + int(expiration)}
    for name, value in (("t", content_type), ("d", content_disposition), ("m", etag)):
        if value:
            grant[name] = value
    token = signing.dumps(grant, salt=_OBJECT_SALT, compress=True)
    path = patchbay_path("patchbay:s3-simulated-object", kwargs={"bucket": bucket, "key": key})
    return f"{conf.PUBLIC_URL}{path}?{urlencode({'token': token})}"


def load_object_token(token: str) -> dict[str, Any] | None:
    """What a simulated object URL grants, or None if forged or expired."""
    try:
        grant: dict[str, Any] = signing.loads(token, salt=_OBJECT_SALT)
    except signing.BadSignature:
        return None
    return grant if grant.get("e", 0) >= time.time() else None
