"""S3's checks of a browser-based POST upload (Signature Version 4), as pure functions.

moto accepts any POST, so a test against it proves nothing about the form.
:func:`verify_post` refuses what S3 refuses, with S3's error code, message
and status: a missing field, a credential for another key or region, a
signature that does not sign the policy, an expired policy, a failed
condition, a field no condition covers, a file outside the
``content-length-range``. The simulated upload view answers with it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from patchbay.aws.simulated.sigv4 import (
    ALGORITHM,
    SIMULATION_ACCESS_KEY,
    SIMULATION_REGION,
    policy_signature,
    simulation_secret_key,
)

DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 stores when the form sends none
MAX_KEY_BYTES = 1024
# The fields a signed POST cannot do without, in the order S3 reports them missing.
REQUIRED_FIELDS = (
    "key",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-signature",
    "policy",
)
# Fields no condition has to cover (S3: "except x-amz-signature, file, policy, x-ignore-*").
_UNCOVERED = {"file", "policy", "x-amz-signature"}
_EXPIRATION_FORMATS = ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ")
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


class PostRefused(Exception):
    """S3's refusal of a POST upload: its error ``code``, ``message`` and HTTP ``status``.

    ``details`` are the extra elements S3 adds to the ``<Error>`` document,
    e.g. ``ProposedSize`` and ``MaxSizeAllowed``.
    """

    def __init__(self, code: str, message: str, status: int, **details: str | int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details


@dataclass(frozen=True)
class AcceptedPost:
    """What a POST S3 accepted stores, and how S3 answers it."""

    key: str
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)
    content_disposition: str = ""
    success_action_redirect: str = ""
    success_action_status: int = 204


def decode_policy(policy: str) -> dict[str, Any]:
    """The policy document (``expiration`` and ``conditions``) of a base64 ``policy`` field."""
    try:
        document = json.loads(base64.b64decode(policy, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise _invalid_policy("Invalid JSON.") from exc
    if not isinstance(document, dict):
        raise _invalid_policy("Invalid JSON.")
    if not isinstance(document.get("expiration"), str):
        raise _invalid_policy("Policy missing expiration.")
    if not isinstance(document.get("conditions"), list):
        raise _invalid_policy("Policy missing conditions.")
    return document


def _invalid_policy(problem: str) -> PostRefused:
    return PostRefused("InvalidPolicyDocument", f"Invalid Policy: {problem}", 400)


def substitute_filename(fields: Mapping[str, str], filename: str) -> dict[str, str]:
    """``fields`` with ``${filename}`` replaced by the uploaded file's name, as S3 does.

    Only the part after the last ``/`` or ``\\`` of the name counts; the
    policy and signature are left alone (they are what was signed).
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return {
        field_name: value
        if field_name.lower() in {"policy", "x-amz-signature"}
        else value.replace("${filename}", name)
        for field_name, value in fields.items()
    }


def verify_post(
    bucket: str,
    fields: Mapping[str, str],
    *,
    file_size: int | None,
    filename: str = "",
    access_key: str = SIMULATION_ACCESS_KEY,
    secret_key: str | None = None,
    region: str = SIMULATION_REGION,
    now: float | None = None,
) -> AcceptedPost:
    """Check a POST upload to ``bucket`` as S3 does; raise :class:`PostRefused` if S3 would.

    ``fields`` are the form fields sent before the file (S3 ignores any after
    it), names in any case; ``file_size`` is the file's size in bytes, None
    without a file. ``access_key``, ``secret_key`` and ``region`` are what
    the bucket trusts: the simulation credentials unless given. ``now`` is a
    Unix time (default: the current time).
    """
    if secret_key is None:
        secret_key = simulation_secret_key()
    form = {name.lower(): value for name, value in substitute_filename(fields, filename).items()}
    _require_fields(form)
    if file_size is None:
        raise missing_file()
    date = _check_credential(form, access_key, region)
    expected = policy_signature(form["policy"], secret_key, date, region)
    if not hmac.compare_digest(expected.encode(), form["x-amz-signature"].encode()):
        raise PostRefused("SignatureDoesNotMatch", _SIGNATURE_MISMATCH, 403)
    document = decode_policy(form["policy"])
    if _expiration(document["expiration"]) <= (time.time() if now is None else now):
        raise PostRefused("AccessDenied", "Invalid according to Policy: Policy expired.", 403)
    covered, size_ranges = _check_conditions(document["conditions"], form, bucket)
    extra = sorted(
        name
        for name in form
        if name not in covered and name not in _UNCOVERED and not name.startswith("x-ignore-")
    )
    if extra:
        raise PostRefused(
            "AccessDenied",
            f"Invalid according to Policy: Extra input fields: {', '.join(extra)}",
            403,
        )
    _check_size(file_size, size_ranges)
    if len(form["key"].encode()) > MAX_KEY_BYTES:
        raise PostRefused("KeyTooLongError", "Your key is too long", 400)
    return AcceptedPost(
        key=form["key"],
        content_type=form.get("content-type") or DEFAULT_CONTENT_TYPE,
        content_disposition=form.get("content-disposition", ""),
        # S3 stores user metadata under lower-case names, without the prefix.
        metadata={
            name.removeprefix("x-amz-meta-"): value
            for name, value in form.items()
            if name.startswith("x-amz-meta-")
        },
        success_action_redirect=form.get("success_action_redirect") or form.get("redirect", ""),
        success_action_status=_success_status(form.get("success_action_status", "")),
    )


def missing_file() -> PostRefused:
    """S3's refusal of a POST without exactly one file (named ``file``)."""
    return PostRefused(
        "InvalidArgument",
        "POST requires exactly one file upload per request.",
        400,
        ArgumentName="file",
        ArgumentValue=0,
    )


def _require_fields(form: Mapping[str, str]) -> None:
    if not any(name in form for name in ("policy", "x-amz-signature", "x-amz-credential")):
        # Unsigned: an anonymous upload, which a bucket that is not public-write refuses.
        raise PostRefused("AccessDenied", "Access Denied", 403)
    for name in REQUIRED_FIELDS:
        if not form.get(name):
            raise PostRefused(
                "InvalidArgument",
                f"Bucket POST must contain a field named '{name}'.  "
                "If it is specified, please check the order of the fields.",
                400,
                ArgumentName=name,
                ArgumentValue="",
            )
    if form["x-amz-algorithm"] != ALGORITHM:
        raise PostRefused(
            "InvalidArgument",
            f"The x-amz-algorithm {form['x-amz-algorithm']!r} is not supported; use {ALGORITHM}.",
            400,
            ArgumentName="x-amz-algorithm",
            ArgumentValue=form["x-amz-algorithm"],
        )


def _check_credential(form: Mapping[str, str], access_key: str, region: str) -> str:
    """The credential's date; refuses a malformed scope, another region or an unknown key."""
    credential = form["x-amz-credential"]
    parts = credential.split("/")
    if (
        len(parts) != 5
        or not (len(parts[1]) == 8 and parts[1].isdigit())
        or parts[3:] != ["s3", "aws4_request"]
    ):
        raise PostRefused(
            "InvalidArgument",
            "Error parsing the X-Amz-Credential parameter; "
            "it must be <access key>/<yyyymmdd>/<region>/s3/aws4_request.",
            400,
            ArgumentName="x-amz-credential",
            ArgumentValue=credential,
        )
    if parts[2] != region:
        raise PostRefused(
            "InvalidArgument",
            f"Error parsing the X-Amz-Credential parameter; the region '{parts[2]}' is wrong; "
            f"expecting '{region}'",
            400,
            ArgumentName="x-amz-credential",
            ArgumentValue=credential,
        )
    if not hmac.compare_digest(parts[0].encode(), access_key.encode()):
        raise PostRefused(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403,
            AWSAccessKeyId=parts[0],
        )
    return parts[1]


def _expiration(value: str) -> float:
    for layout in _EXPIRATION_FORMATS:
        try:
            moment = datetime.strptime(value, layout)
        except ValueError:
            continue
        return moment.replace(tzinfo=timezone.utc).timestamp()
    raise _invalid_policy(f"Invalid 'expiration' value: '{value}'")


def _check_conditions(
    conditions: list[Any], form: Mapping[str, str], bucket: str
) -> tuple[set[str], list[tuple[int, int]]]:
    """The fields the conditions cover and their size ranges; refuses a failed condition."""
    covered: set[str] = set()
    size_ranges: list[tuple[int, int]] = []
    for condition in conditions:
        if isinstance(condition, dict) and condition:
            for name, expected in condition.items():
                _match("eq", str(name), expected, form, bucket)
                covered.add(str(name).lower())
        elif (
            isinstance(condition, list)
            and len(condition) == 3
            and str(condition[0]).lower() == "content-length-range"
        ):
            size_ranges.append(_size_range(condition))
        elif (
            isinstance(condition, list)
            and len(condition) == 3
            and str(condition[0]).lower() in {"eq", "starts-with"}
            and isinstance(condition[1], str)
            and condition[1].startswith("$")
        ):
            name = condition[1][1:]
            _match(str(condition[0]).lower(), name, condition[2], form, bucket)
            covered.add(name.lower())
        else:
            raise _invalid_policy(f"Invalid Condition: {json.dumps(condition)}")
    return covered, size_ranges


def _match(operator: str, name: str, expected: Any, form: Mapping[str, str], bucket: str) -> None:
    if isinstance(expected, (dict, list)) or expected is None:
        raise _invalid_policy(f"Invalid Simple-Condition: value of ${name} must be a string.")
    wanted = str(expected)
    # The bucket is the request's, whatever a form field claims.
    value = bucket if name.lower() == "bucket" else form.get(name.lower(), "")
    if operator == "eq":
        matched = value == wanted
    elif name.lower() == "content-type":
        # A Content-Type may list several types: each must start with the prefix.
        matched = all(part.strip().startswith(wanted) for part in value.split(","))
    else:
        matched = value.startswith(wanted)
    if not matched:
        raise PostRefused(
            "AccessDenied",
            "Invalid according to Policy: Policy Condition failed: "
            + json.dumps([operator, f"${name}", wanted]),
            403,
        )


def _size_range(condition: list[Any]) -> tuple[int, int]:
    low, high = condition[1], condition[2]
    if not all(isinstance(bound, int) and not isinstance(bound, bool) for bound in (low, high)):
        raise _invalid_policy("Invalid content-length-range: " + json.dumps(condition))
    return int(low), int(high)


def _check_size(size: int, ranges: list[tuple[int, int]]) -> None:
    for low, high in ranges:
        if size > high:
            raise PostRefused(
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                400,
                ProposedSize=size,
                MaxSizeAllowed=high,
            )
        if size < low:
            raise PostRefused(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                400,
                ProposedSize=size,
                MinSizeAllowed=low,
            )


def _success_status(value: str) -> int:
    # S3 answers 204 to any value but 200 and 201.
    return int(value) if value in {"200", "201"} else 204
