"""Simulated S3: presigned forms and URLs that point at patchbay's own endpoints.

A simulated presigned POST is made by boto3 itself, with simulation
credentials, so its policy and signature are exactly what S3 would check;
patchbay's simulated upload endpoint then checks them as S3 does.
"""

from __future__ import annotations

import functools
import time
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.utils.crypto import salted_hmac

from patchbay.conf import conf
from patchbay.core.urls import patchbay_path

SIMULATION_ACCESS_KEY = "AKIAPATCHBAYSIMULATE"
SIMULATION_REGION = "us-east-1"
_OBJECT_SALT = "patchbay.aws.simulated-object"


def simulation_secret_key() -> str:
    """The secret simulated forms are signed with: derived from ``SECRET_KEY``, never stored."""
    return salted_hmac("patchbay.aws.simulation-secret", "s3", algorithm="sha256").hexdigest()


def _sdk_client() -> Any:
    return _signing_client(simulation_secret_key())


@functools.lru_cache(maxsize=4)
def _signing_client(secret_key: str) -> Any:
    # Building a boto3 client costs milliseconds, signing with it microseconds: keep
    # one per secret (SECRET_KEY may change, e.g. in tests).
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(  # a session of its own: thread-safe
        "s3",
        aws_access_key_id=SIMULATION_ACCESS_KEY,
        aws_secret_access_key=secret_key,
        region_name=SIMULATION_REGION,
        endpoint_url="http://patchbay.simulated",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def presigned_post(
    bucket: str,
    key: str,
    expiration: int,
    conditions: list[Any] | None,
    fields: dict[str, Any] | None,
) -> dict[str, Any]:
    """boto3's presigned POST, aimed at ``patchbay:s3-simulated-upload``."""
    post = _sdk_client().generate_presigned_post(
        bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expiration
    )
    url = conf.PUBLIC_URL + patchbay_path("patchbay:s3-simulated-upload", kwargs={"bucket": bucket})
    return {"post_url": url, "form_fields": post["fields"]}


def object_url(bucket: str, key: str, expiration: int) -> str:
    """A URL of ``patchbay:s3-simulated-object`` serving the object until it expires."""
    token = signing.dumps(
        {"b": bucket, "k": key, "e": int(time.time()) + int(expiration)},
        salt=_OBJECT_SALT,
        compress=True,
    )
    path = patchbay_path("patchbay:s3-simulated-object", kwargs={"bucket": bucket, "key": key})
    return f"{conf.PUBLIC_URL}{path}?{urlencode({'token': token})}"


def load_object_token(token: str) -> dict[str, Any] | None:
    """What a simulated object URL grants, or None if forged or expired."""
    try:
        grant: dict[str, Any] = signing.loads(token, salt=_OBJECT_SALT)
    except signing.BadSignature:
        return None
    return grant if grant.get("e", 0) >= time.time() else None
