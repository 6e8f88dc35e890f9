"""JSON endpoints for phone verification: start (text a code) and check (verify it).

Both take POST only, form-encoded or JSON (``phone_number``, and ``code`` to
check), and are CSRF-protected like any form: send the ``csrftoken`` cookie's
value in an ``X-CSRFToken`` header (or a ``csrfmiddlewaretoken`` field). They
answer 200 with the result, 400 ``{"error": ...}`` for bad input, 405 for
other methods, 429 ``{"error", "retry_after"}`` with a ``Retry-After`` header
when a send limit is reached, and 502/503 when Twilio fails.

A successful check stores the number in the session as
``request.session["patchbay_verified_phone"]`` (E.164), for the project's next
view to trust.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_protect

from patchbay.results import failure
from patchbay.twilio.results import PhoneCodeResult, PhoneVerificationResult
from patchbay.twilio.verification import initiate_phone_verification, verify_phone_code

SESSION_KEY = "patchbay_verified_phone"

# Failures caused by what the client sent (or the number it chose): 400.
_BAD_INPUT = frozenset(
    {
        "invalid_request",
        "invalid_number",
        "invalid_code",
        "code_expired",
        "too_many_attempts",
        "no_pending_code",
        "opted_out",
        "not_mobile",
        "landline",
        "unreachable",
        "unknown_destination",
        "region_not_enabled",
    }
)
# What a client may see of a result; internal ids (sms_id) stay on the server.
_PUBLIC_KEYS = ("success", "verified", "phone_number", "expires_in", "error", "error_code")

View = Callable[[HttpRequest], JsonResponse]


def _json_post(view: Callable[[HttpRequest, dict[str, str]], Mapping[str, Any]]) -> View:
    """POST only (405 JSON otherwise), CSRF-checked, with the body's fields parsed."""

    @csrf_protect
    def wrapper(request: HttpRequest) -> JsonResponse:
        if request.method != "POST":
            response = JsonResponse({"error": "Use POST."}, status=405)
            response["Allow"] = "POST"
            return response
        fields = _fields(request)
        if fields is None:
            return _respond(
                failure(
                    "The body must be a form or a JSON object of strings.",
                    error_code="invalid_request",
                )
            )
        return _respond(view(request, fields))

    wrapper.__doc__ = view.__doc__
    wrapper.__name__ = view.__name__
    return wrapper


@login_not_required  # for sign-up pages too: limited per number and per IP instead
@_json_post
def start(request: HttpRequest, fields: dict[str, str]) -> PhoneVerificationResult:
    """``patchbay:phone-verification-start``: text a code to ``phone_number``."""
    return initiate_phone_verification(fields.get("phone_number", ""), request)


@login_not_required
@_json_post
def check(request: HttpRequest, fields: dict[str, str]) -> PhoneCodeResult:
    """``patchbay:phone-verification-check``: verify ``code`` for ``phone_number``."""
    result = verify_phone_code(fields.get("phone_number", ""), fields.get("code", ""))
    if result["success"] and hasattr(request, "session"):  # needs SessionMiddleware
        request.session[SESSION_KEY] = result["phone_number"]
    return result


def _fields(request: HttpRequest) -> dict[str, str] | None:
    """The body's fields as strings, or None if it is not a form or a flat JSON object."""
    if request.content_type != "application/json":
        return {key: request.POST.get(key, "") for key in request.POST}
    try:
        data: Any = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def _respond(result: Mapping[str, Any]) -> JsonResponse:
    body = {key: result[key] for key in _PUBLIC_KEYS if key in result}
    if result["success"]:
        return JsonResponse(body)
    if "retry_after" in result:
        body["retry_after"] = result["retry_after"]
        response = JsonResponse(body, status=429)
        response["Retry-After"] = str(result["retry_after"])
        return response
    if result["error_code"] in _BAD_INPUT:
        return JsonResponse(body, status=400)
    return JsonResponse(body, status=503 if result["retryable"] else 502)
